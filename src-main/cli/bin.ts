#!/usr/bin/env node
import { run } from './onbrand.js';

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`onbrand: ${(error as Error).message}`);
    process.exit(1);
  },
);
