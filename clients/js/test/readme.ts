// The README's examples, loaded as modules so that tests run them as written.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The README's `<!-- example: name -->` block as a module, each package import in `imports`
 * (`"progress-sync/react": "react.ts"`) pointing at that file of src/.
 */
export async function readmeExample<T>(name: string, imports: Record<string, string>): Promise<T> {
  const readme = readFileSync(join(here, "../README.md"), "utf8");
  const code = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`js\\n(.*?)\`\`\``, "s").exec(readme)?.[1];
  expect(code, `README.md lost its ${name} example`).toBeDefined();
  let source = code as string;
  for (const [from, file] of Object.entries(imports)) source = source.replace(JSON.stringify(from), JSON.stringify(join(here, "../src", file)));
  // Inside the package, where the test's bundler transforms it, in the unversioned dist/.
  mkdirSync(join(here, "../dist"), { recursive: true });
  const module = join(here, `../dist/readme-${name}-example.mjs`);
  writeFileSync(module, source);
  return (await import(/* @vite-ignore */ module).finally(() => rmSync(module))) as T;
}
