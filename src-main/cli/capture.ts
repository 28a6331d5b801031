import { PassThrough } from 'node:stream';
import { run } from './onbrand.js';

/** Runs the CLI in-process with captured output (tests). */
export async function runCaptured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c: Buffer) => (o += c.toString()));
  err.on('data', (c: Buffer) => (e += c.toString()));
  return { code: await run(args, out, err), out: o, err: e };
}
