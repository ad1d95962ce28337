// Server-Sent Events read from a fetch body (the WHATWG "event stream" format), for the live
// stream: `EventSource` cannot send a bearer token, so the SDK reads the stream itself.

/** One dispatched message: its `event` type ("message" when the server names none), its
 * `data` lines joined by newlines, and the last `id` the stream has set so far. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * The messages of an event stream, as its chunks arrive: lines end in CRLF, LF or CR (even
 * when a chunk ends between CR and LF, or inside a UTF-8 sequence), `:` lines are comments,
 * a blank line dispatches. A message without data is not dispatched, but its `id` counts.
 */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (let done = false; !done; ) {
      const chunk = await reader.read();
      done = chunk.done;
      buffer += done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      for (let end = lineEnd(buffer, done); end >= 0; end = lineEnd(buffer, done)) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === "\r" && buffer[end + 1] === "\n" ? end + 2 : end + 1);
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Where the first complete line of `buffer` ends, or -1 while there is none. */
function lineEnd(buffer: string, done: boolean): number {
  const cr = buffer.indexOf("\r");
  const lf = buffer.indexOf("\n");
  if (cr >= 0 && (lf < 0 || cr < lf)) return cr + 1 < buffer.length || done ? cr : -1;
  return lf;
}
