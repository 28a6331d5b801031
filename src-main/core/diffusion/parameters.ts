/** Generation parameters in A1111's text format, so A1111, ComfyUI and exiftool read them back. */

export interface GenerationParameters {
  prompt: string;
  negativePrompt: string;
  steps: number;
  sampler: string;
  cfg: number;
  seed: number;
  width: number;
  height: number;
  modelHash: string;
  modelName: string;
  /** img2img only. */
  denoisingStrength?: number;
  /** A1111's `Lora hashes`: `name: hash, name2: hash2`. */
  loraHashes?: string;
  version: string;
}

/** The `parameters` text: prompt, `Negative prompt: …`, then `Key: value` pairs on one line. */
export function formatParameters(p: GenerationParameters): string {
  const pairs: [string, string | number][] = [
    ['Steps', p.steps],
    ['Sampler', p.sampler],
    ['CFG scale', p.cfg],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.modelHash],
    ['Model', p.modelName],
  ];
  if (p.denoisingStrength !== undefined) pairs.push(['Denoising strength', p.denoisingStrength]);
  if (p.loraHashes) pairs.push(['Lora hashes', p.loraHashes]);
  pairs.push(['RNG', 'CPU'], ['Version', `onbrand ${p.version}`]);
  const line = pairs.map(([k, v]) => `${k}: ${quote(String(v))}`).join(', ');
  return [p.prompt, ...(p.negativePrompt ? [`Negative prompt: ${p.negativePrompt}`] : []), line].join('\n');
}

/** A1111 quotes values that contain a comma, colon or quote. */
function quote(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}

/** Reads A1111 `parameters` text back: prompt, negative prompt and the key/value pairs. */
export function parseParameters(text: string): { prompt: string; negativePrompt: string; values: Record<string, string> } {
  const lines = text.split('\n');
  const last = lines.at(-1) ?? '';
  const hasPairs = /^\s*Steps: /.test(last);
  const body = hasPairs ? lines.slice(0, -1) : lines;
  const negIndex = body.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negIndex >= 0 ? body.slice(0, negIndex) : body).join('\n');
  const negativePrompt = negIndex >= 0 ? body.slice(negIndex).join('\n').replace(/^Negative prompt:\s?/, '') : '';
  const values: Record<string, string> = {};
  if (hasPairs) {
    for (const match of last.matchAll(/\s*([\w ]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g)) {
      const raw = match[2]!.trim();
      values[match[1]!.trim()] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    }
  }
  return { prompt, negativePrompt, values };
}
