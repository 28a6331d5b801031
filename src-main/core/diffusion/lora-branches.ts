/**
 * LoRAs as feeds for the side branches of Onbrand's graphs: y = x·W + (x·down)·up for every
 * LoRA-targeted linear layer. Several LoRAs stack along the rank (down's columns, up's rows) with
 * weight · alpha / rank folded into up; a layer no LoRA touches gets rank-1 zeros. Changing a
 * LoRA or its weight is a new set of feeds, never a new session.
 */
import type { Feed } from './backend.js';
import { float32ToFloat16 } from './float16.js';
import type { LoraBranch } from './graph/index.js';
import { LoraError, type LoadedLora, type LoraModule } from './lora.js';

export type BranchPart = 'textEncoder' | 'unet';

export interface BranchFeeds {
  feeds: Record<BranchPart, Record<string, Feed>>;
  warnings: string[];
  /** Bytes of factor data in the feeds (zeros excluded). */
  bytes: number;
}

/** Kohya's key of a module: `lora_unet_` / `lora_te_` and the path with underscores. */
export function kohyaKey(part: BranchPart, module: string): string {
  return (part === 'unet' ? 'lora_unet_' : 'lora_te_') + module.replace(/\./g, '_');
}

/** Convolutions that LoCon trains and the side branches do not cover. */
const CONV_MODULE = /_(resnets_\d+_(conv1|conv2|conv_shortcut|time_emb_proj)|downsamplers_0_conv|upsamplers_0_conv|conv_in|conv_out)$/;

const zeroCache = new Map<string, Float32Array | Uint16Array>();
function zeros(length: number, half: boolean): Float32Array | Uint16Array {
  const key = `${length}:${half}`;
  let z = zeroCache.get(key);
  if (!z) {
    z = half ? new Uint16Array(length) : new Float32Array(length);
    zeroCache.set(key, z);
  }
  return z;
}

export function branchFeeds(
  branches: Record<BranchPart, readonly LoraBranch[]>,
  loras: readonly { lora: LoadedLora; weight: number }[],
  half: boolean,
  modelName: string,
): BranchFeeds {
  const byKey = new Map<string, { part: BranchPart; branch: LoraBranch; modules: { module: LoraModule; scale: number; lora: string }[] }>();
  for (const part of ['textEncoder', 'unet'] as const) for (const branch of branches[part]) byKey.set(kohyaKey(part, branch.module), { part, branch, modules: [] });
  const warnings: string[] = [];
  for (const { lora, weight } of loras) {
    let unmatched = 0;
    let convs = 0;
    for (const module of lora.modules.values()) {
      const hit = byKey.get(module.key);
      if (hit) hit.modules.push({ module, scale: weight * (module.alpha / module.rank), lora: lora.name });
      else if (CONV_MODULE.test(module.key)) convs++;
      else unmatched++;
    }
    for (const [kind, count] of lora.unknownKeys) warnings.push(`LoRA ${lora.name}: ${count} key${count === 1 ? '' : 's'} it does not understand (${kind}); ignored.`);
    if (convs > 0) warnings.push(`LoRA ${lora.name}: ${convs} convolution module${convs === 1 ? '' : 's'} (LoCon) not applied; its attention and feed-forward layers are.`);
    if (unmatched > 0) warnings.push(`LoRA ${lora.name}: ${unmatched} of ${lora.modules.size} modules match nothing in ${modelName} (made for another model?); ignored.`);
  }
  const feeds: BranchFeeds['feeds'] = { textEncoder: {}, unet: {} };
  let bytes = 0;
  for (const { part, branch, modules } of byKey.values()) {
    const { inDim, outDim } = branch;
    if (modules.length === 0) {
      feeds[part][branch.down] = { data: zeros(inDim, half), dims: [inDim, 1] };
      feeds[part][branch.up] = { data: zeros(outDim, half), dims: [1, outDim] };
      continue;
    }
    const rank = modules.reduce((n, m) => n + m.module.rank, 0);
    const down = new Float32Array(inDim * rank);
    const up = new Float32Array(rank * outDim);
    let r0 = 0;
    for (const { module, scale, lora } of modules) {
      const r = module.rank;
      if (module.down.length !== r * inDim || module.up.length !== r * outDim) {
        throw new LoraError(`LoRA ${lora}: ${module.key} is [${module.upShape.join(', ')}]·[${module.downShape.join(', ')}] but the model's layer is ${outDim}×${inDim}: made for another model?`);
      }
      // kohya stores down [r, in] and up [out, r] (1×1 convolutions with trailing 1s).
      for (let k = 0; k < r; k++) {
        for (let i = 0; i < inDim; i++) down[i * rank + r0 + k] = module.down[k * inDim + i]!;
        for (let o = 0; o < outDim; o++) up[(r0 + k) * outDim + o] = module.up[o * r + k]! * scale;
      }
      r0 += r;
    }
    feeds[part][branch.down] = { data: half ? float32ToFloat16(down) : down, dims: [inDim, rank] };
    feeds[part][branch.up] = { data: half ? float32ToFloat16(up) : up, dims: [rank, outDim] };
    bytes += (down.length + up.length) * (half ? 2 : 4);
  }
  return { feeds, warnings, bytes };
}
