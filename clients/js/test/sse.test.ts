// The event-stream parser reads the same messages however the bytes are cut into chunks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serverSentEvents, type ServerSentEvent } from "../src/sse.js";

/** A body that delivers `bytes` in pieces cut at `cuts`. */
function body(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const ends = [...new Set(cuts)].sort((a, b) => a - b).filter((n) => n > 0 && n < bytes.length);
  const pieces = [0, ...ends, bytes.length].slice(1).map((end, n, all) => bytes.slice(n === 0 ? 0 : all[n - 1], end));
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

async function read(stream: ReadableStream<Uint8Array>): Promise<ServerSentEvent[]> {
  const messages: ServerSentEvent[] = [];
  for await (const message of serverSentEvents(stream)) messages.push(message);
  return messages;
}

// Every line ending (LF, CRLF, CR), a comment, multi-line data, a field without a value, a
// message without data, two-byte and four-byte characters, and a final message with no blank
// line after it (never dispatched).
const STREAM =
  "\uFEFF: keep-alive\n\n" +
  'id: 7\r\nevent: events\r\ndata: {"events": [], "cursor": "7"}\r\n\r\n' +
  "id: 8\revent: events\rdata: first line\rdata:second line é 🍞\r\r" +
  "id: 9\nevent: ignored-without-data\n\n" +
  ': another comment\ndata\n\n' +
  'event: closed\ndata: {"reason": "lifetime"}\n\n' +
  "data: unfinished";

const EXPECTED: ServerSentEvent[] = [
  { event: "events", data: '{"events": [], "cursor": "7"}', id: "7" },
  { event: "events", data: "first line\nsecond line é 🍞", id: "8" },
  { event: "message", data: "", id: "9" },
  { event: "closed", data: '{"reason": "lifetime"}', id: "9" },
];

describe("serverSentEvents", () => {
  const bytes = new TextEncoder().encode(STREAM);

  it("reads LF, CRLF and CR lines, comments, ids and multi-line data", async () => {
    expect(await read(body(bytes, []))).toEqual(EXPECTED);
  });

  it("reads the same messages from one byte at a time", async () => {
    expect(await read(body(bytes, [...bytes.keys()]))).toEqual(EXPECTED);
  });

  it("reads the same messages wherever the chunks are cut (inside a CRLF or a character too)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), async (cuts) => {
        expect(await read(body(bytes, cuts))).toEqual(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });
});
