// Removes build output so a rename or deletion in the sources never leaves a stale file in dist/.
import fs from 'node:fs';
fs.rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
