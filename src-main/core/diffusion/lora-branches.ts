/**
 * LoRAs as feeds for the side branches of Onbrand's graphs: y = x·W + (x·down)·up for every
 * LoRA-targeted linear layer, y = conv(x, W) + conv1×1(conv(x, down), up) for every convolution.
 * Each module's ΔW comes as exact low-rank factors (lora-formats.ts `lowRank`: LoRA as it is,
 * LoHa, LoKr and Tucker forms re-factored). Several LoRAs stack along the rank (down's columns /
 * output channels, up's rows / input channels) with weight · scale folded into up; a layer no
 * LoRA touches gets rank-1 zeros. Changing a LoRA or its weight is a new set of feeds, never a new
 * session. SDXL's second text encoder has its own branches and feeds (`textEncoder2`, kohya's
 * `lora_te2_`); a LoRA of another family than the model's is refused by name.
 */
import type { ModelFamily } from '../common/index.js';
import type { Feed } from './backend.js';
import { float32ToFloat16 } from './float16.js';
import type { LoraBranch } from './graph/index.js';
import { lowRank } from './lora-formats.js';
import {
  familyOfLayers,
  fitInner,
  loraWarnings,
  placeModules,
  shapeError,
  type LayerShape,
  type LoadedLora,
  type LoraModule,
} from './lora.js';

/** The session each feed is for: the text encoder (SDXL's first), SDXL's second text encoder, the UNet. */
export type BranchPart = 'textEncoder' | 'textEncoder2' | 'unet';

/** A model's LoRA branches by part (`BuiltModel.branches`: text_encoder, text_encoder_2, unet); SD 1.x/2.x have no textEncoder2. */
export interface ModelBranches {
  textEncoder: readonly LoraBranch[];
  textEncoder2?: readonly LoraBranch[];
  unet: readonly LoraBranch[];
}

export interface BranchFeeds {
  feeds: Record<BranchPart, Record<string, Feed>>;
  warnings: string[];
  /** Bytes of factor data in the feeds (zeros excluded). */
  bytes: number;
}

const KOHYA_PREFIX: Record<BranchPart, string> = { textEncoder: 'lora_te_', textEncoder2: 'lora_te2_', unet: 'lora_unet_' };

/** Kohya's key of a module: `lora_unet_` / `lora_te_` / `lora_te2_` and the path with underscores. */
export function kohyaKey(part: BranchPart, module: string): string {
  return KOHYA_PREFIX[part] + module.replace(/\./g, '_');
}

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

function layerOf(branch: LoraBranch): LayerShape {
  return { out: branch.outDim, inChannels: branch.inDim, kk: branch.kernel * branch.kernel };
}

/** The dims of a branch's down and up inputs at `rank`. */
function branchDims(branch: LoraBranch, rank: number): { down: number[]; up: number[] } {
  const { inDim, outDim, kernel } = branch;
  return branch.kind === 'conv'
    ? { down: [rank, inDim, kernel, kernel], up: [outDim, rank, 1, 1] }
    : { down: [inDim, rank], up: [rank, outDim] };
}

/**
 * The feeds of every branch for `loras` at their weights (float16 when `half`). `family` is the
 * model's (`LoadedModel.family`; by default what its branches show, `familyOfLayers`): a LoRA of
 * another family is refused, naming both.
 */
export function branchFeeds(
  branches: ModelBranches,
  loras: readonly { lora: LoadedLora; weight: number }[],
  half: boolean,
  modelName: string,
  family?: ModelFamily,
): BranchFeeds {
  const byKey = new Map<string, { part: BranchPart; branch: LoraBranch; modules: { module: LoraModule; scale: number; lora: string }[] }>();
  for (const part of ['textEncoder', 'textEncoder2', 'unet'] as const)
    for (const branch of branches[part] ?? []) byKey.set(kohyaKey(part, branch.module), { part, branch, modules: [] });
  const modelFamily = family ?? familyOfLayers([...byKey].map(([key, { branch }]) => ({ key, inDim: branch.inDim })));
  const warnings: string[] = [];
  for (const { lora, weight } of loras) {
    const { placed, unmatched } = placeModules(lora, byKey, modelFamily, modelName);
    for (const { key, module } of placed) byKey.get(key)!.modules.push({ module, scale: weight * module.scale, lora: lora.name });
    warnings.push(...loraWarnings(lora, unmatched, modelName));
  }
  const feeds: BranchFeeds['feeds'] = { textEncoder: {}, textEncoder2: {}, unet: {} };
  let bytes = 0;
  for (const { part, branch, modules } of byKey.values()) {
    if (modules.length === 0) {
      const dims = branchDims(branch, 1);
      feeds[part][branch.down] = { data: zeros(branch.inDim * branch.kernel * branch.kernel, half), dims: dims.down };
      feeds[part][branch.up] = { data: zeros(branch.outDim, half), dims: dims.up };
      continue;
    }
    const layer = layerOf(branch);
    const inner = branch.inDim * layer.kk;
    const outDim = branch.outDim;
    const factors = modules.map(({ module, scale, lora }) => {
      const dims = branch.kind === 'conv' ? [outDim, branch.inDim, branch.kernel, branch.kernel] : [outDim, branch.inDim];
      if (module.out !== outDim) throw shapeError(lora, module, layer, dims);
      const f = lowRank(module);
      const down = fitInner(f.down, f.rank, module, layer);
      if (!down) throw shapeError(lora, module, layer, dims);
      return { rank: f.rank, up: f.up, down, scale };
    });
    const rank = factors.reduce((n, f) => n + f.rank, 0);
    const down = new Float32Array(inner * rank);
    const up = new Float32Array(rank * outDim);
    let r0 = 0;
    for (const f of factors) {
      const r = f.rank;
      // Factors are up [out, r] · down [r, inner] (PyTorch's layout). A linear branch multiplies
      // x [.., in] by down [in, rank] then up [rank, out]; a conv branch takes them as they are.
      if (branch.kind === 'conv') {
        down.set(f.down, r0 * inner);
        for (let o = 0; o < outDim; o++) for (let k = 0; k < r; k++) up[o * rank + r0 + k] = f.up[o * r + k]! * f.scale;
      } else {
        for (let k = 0; k < r; k++) {
          for (let i = 0; i < inner; i++) down[i * rank + r0 + k] = f.down[k * inner + i]!;
          for (let o = 0; o < outDim; o++) up[(r0 + k) * outDim + o] = f.up[o * r + k]! * f.scale;
        }
      }
      r0 += r;
    }
    const dims = branchDims(branch, rank);
    feeds[part][branch.down] = { data: half ? float32ToFloat16(down) : down, dims: dims.down };
    feeds[part][branch.up] = { data: half ? float32ToFloat16(up) : up, dims: dims.up };
    bytes += (down.length + up.length) * (half ? 2 : 4);
  }
  return { feeds, warnings, bytes };
}
