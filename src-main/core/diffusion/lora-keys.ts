/**
 * The names LoRA files give their modules, read into one address per module. Onbrand's graphs name
 * layers by their diffusers paths, so every address ends as kohya's diffusers-style key
 * (`lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`, `lora_te_text_model_…`):
 *
 * - kohya / A1111 with diffusers paths: `lora_unet_down_blocks_…`, `lora_te_text_model_…`; and
 *   `lora_te1_text_model_…` on its own, which A1111 also reads as SD 1.x's text encoder ("some SD1
 *   Loras also have correct compvis keys", `networks.py` `load_network`).
 * - kohya / A1111 with LDM (CompVis) paths: `lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q`,
 *   `…_middle_block_0_in_layers_2`, `…_output_blocks_2_2_conv`, `…_time_embed_0`, `…_out_2` (A1111
 *   matches these by replacing `lora_unet` with `diffusion_model` and looking the name up among the
 *   LDM model's modules), and the dotted `diffusion_model.input_blocks.1.1.…` that ComfyUI writes.
 *   The underscores are read on the known LDM structure, then mapped as checkpoints are
 *   (`unetName`): which diffusers block an `input_blocks.i` is depends on the model's layers per
 *   block, so these addresses are resolved against the model.
 * - diffusers / PEFT: `unet.down_blocks.0.….to_q.lora_A.weight` / `lora_B.weight` (also without
 *   the `unet.` prefix, or under `base_model.model.`), `text_encoder.text_model.…`, the older
 *   `….processor.to_q_lora.down.weight`, `….lora.down.weight` and `….lora_linear_layer.down.weight`.
 *
 * SDXL (`lora_te2_`, `text_encoder_2.`, `label_emb`, transformer depth above 1), SD 3 and Flux
 * files are told apart, so the user hears "an SDXL LoRA" rather than a count of unmatched layers.
 */
import { unetName } from './graph/checkpoint-weights.js';

export type LoraPart = 'textEncoder' | 'unet';

/** Where a module points: a diffusers-style kohya key, or an LDM UNet path resolved per model. */
export type ModuleAddress = { part: LoraPart; key: string } | { part: 'unet'; ldm: string };

/** The family a key proves when it is not SD 1.x / 2.x. */
export type OtherFamily = 'SDXL' | 'SD 3' | 'Flux' | 'SD 3 or Flux';

export type ParsedKey =
  | { kind: 'module'; module: string; address: ModuleAddress; tensor: string; family: OtherFamily | null }
  | { kind: 'unknown'; group: string; family: OtherFamily | null };

/** Tensor names after the module path (kohya's part after the first dot; PEFT and diffusers suffixes normalised to kohya's). */
const DOTTED_TENSOR: [RegExp, string][] = [
  [/\.lora_A(?:\.default)?\.weight$/, 'lora_down.weight'],
  [/\.lora_B(?:\.default)?\.weight$/, 'lora_up.weight'],
  [/\.lora(?:_linear_layer)?\.down\.weight$/, 'lora_down.weight'],
  [/\.lora(?:_linear_layer)?\.up\.weight$/, 'lora_up.weight'],
  [/\.(lora_down|lora_up|lora_mid)\.weight$/, '$1.weight'],
  [
    /\.(alpha|scale|dora_scale|diff|diff_b|hada_w[12]_[ab]|hada_t[12]|lokr_w[12]|lokr_w[12]_[ab]|lokr_t2|on_input|oft_blocks|oft_diag|w_norm|b_norm)$/,
    '$1',
  ],
];

/** diffusers' attention processor LoRA: `….attn1.processor.to_q_lora.down.weight` → module `….attn1.to_q`. */
const PROCESSOR = /^(.+)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;

/** A key's group for reports: its path up to the first index, then `…` and the tensor name. */
export function keyGroup(key: string): string {
  const dot = key.indexOf('.');
  if (/^lora_/.test(key) && dot > 0) {
    const base = key.slice(0, dot);
    const tokens = base.split('_');
    const stop = tokens.findIndex((t) => /^\d+$/.test(t));
    return `${stop < 0 ? base : `${tokens.slice(0, stop).join('_')}_…`}.${key.slice(dot + 1)}`;
  }
  const segments = key.split('.');
  const stop = segments.findIndex((s) => /^\d+$/.test(s));
  if (stop < 0) return key;
  const tail = segments.slice(-1)[0]!;
  return `${segments.slice(0, stop).join('.')}.….${tail}`;
}

/** The family that a UNet path of another model proves (transformer depth above 1 is SDXL's). */
function unetFamily(path: string): OtherFamily | null {
  if (/(^|[._])label_emb([._]|$)/.test(path)) return 'SDXL';
  const depth = /transformer_blocks[._](\d+)/.exec(path);
  return depth && Number(depth[1]) >= 1 ? 'SDXL' : null;
}

const LDM_SUB: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^(in_layers|out_layers|emb_layers)_(\d+)$/, (m) => `${m[1]}.${m[2]}`],
  [/^(skip_connection|op|conv|proj_in|proj_out|norm)$/, (m) => m[1]!],
  [/^transformer_blocks_(\d+)_(attn[12])_(to_q|to_k|to_v)$/, (m) => `transformer_blocks.${m[1]}.${m[2]}.${m[3]}`],
  [/^transformer_blocks_(\d+)_(attn[12])_to_out_0$/, (m) => `transformer_blocks.${m[1]}.${m[2]}.to_out.0`],
  [/^transformer_blocks_(\d+)_ff_net_0_proj$/, (m) => `transformer_blocks.${m[1]}.ff.net.0.proj`],
  [/^transformer_blocks_(\d+)_ff_net_2$/, (m) => `transformer_blocks.${m[1]}.ff.net.2`],
  [/^transformer_blocks_(\d+)_(norm[123])$/, (m) => `transformer_blocks.${m[1]}.${m[2]}`],
];

/** A kohya LDM UNet path (`input_blocks_1_1_transformer_blocks_0_attn1_to_q`) → dotted (`input_blocks.1.1.transformer_blocks.0.attn1.to_q`), or null. */
export function ldmPath(underscored: string): string | null {
  let m = /^(input_blocks|output_blocks)_(\d+)_(\d+)(?:_(.+))?$/.exec(underscored);
  const sub = (rest: string): string | null => {
    for (const [pattern, to] of LDM_SUB) {
      const hit = pattern.exec(rest);
      if (hit) return to(hit);
    }
    return null;
  };
  if (m) {
    if (m[4] === undefined) return m[1] === 'input_blocks' && m[2] === '0' && m[3] === '0' ? 'input_blocks.0.0' : null;
    const rest = sub(m[4]);
    return rest && `${m[1]}.${m[2]}.${m[3]}.${rest}`;
  }
  m = /^middle_block_(\d+)_(.+)$/.exec(underscored);
  if (m) {
    const rest = sub(m[2]!);
    return rest && `middle_block.${m[1]}.${rest}`;
  }
  m = /^(time_embed|out)_(\d+)$/.exec(underscored);
  return m ? `${m[1]}.${m[2]}` : null;
}

const LDM_ROOT = /^(input_blocks|middle_block|output_blocks|time_embed|out|label_emb)_/;
const DIFFUSERS_UNET_ROOT = /^(down_blocks|mid_block|up_blocks|conv_in|conv_out|time_embedding|conv_norm_out)([._]|$)/;

/** A dotted diffusers / PEFT module path (after any `base_model.model.`) → its address, or why not. */
function dottedAddress(path: string): { address: ModuleAddress } | { reason: string; family?: OtherFamily } {
  const underscored = (prefix: string, rest: string): string => prefix + rest.replace(/\./g, '_');
  let m = /^unet\.(.+)$/.exec(path);
  if (m || DIFFUSERS_UNET_ROOT.test(path)) {
    const rest = m ? m[1]! : path;
    if (/^(input_blocks|middle_block|output_blocks)\./.test(rest)) return { address: { part: 'unet', ldm: rest } };
    return { address: { part: 'unet', key: underscored('lora_unet_', rest) } };
  }
  if (/^text_encoder_2\./.test(path)) return { reason: 'the second text encoder', family: 'SDXL' };
  m = /^(?:text_encoder\.)?(text_model\..+)$/.exec(path);
  if (m) return { address: { part: 'textEncoder', key: underscored('lora_te_', m[1]!) } };
  m = /^(?:model\.)?diffusion_model\.(.+)$/.exec(path);
  if (m) return { address: { part: 'unet', ldm: m[1]! } };
  if (/^(transformer\.)?(single_transformer_blocks|double_blocks|single_blocks)\./.test(path))
    return { reason: 'a Flux transformer', family: 'Flux' };
  if (/^(transformer\.)?joint_blocks\./.test(path) || /^transformer\.transformer_blocks\./.test(path))
    return { reason: 'an MMDiT transformer', family: 'SD 3' };
  return { reason: 'names no SD module' };
}

/** One key of a LoRA file: its module and tensor, or the group it is reported under. */
export function parseKey(key: string): ParsedKey {
  const unknown = (reason: string, family: OtherFamily | null = null): ParsedKey => ({
    kind: 'unknown',
    group: `${keyGroup(key)} (${reason})`,
    family,
  });

  // kohya: `lora_unet_<path>.<tensor>`, the path without dots.
  const kohya = /^(lora_unet|lora_te|lora_te1|lora_te2|lora_transformer)_([^.]+)\.(.+)$/.exec(key);
  if (kohya) {
    const [, prefix, path, written] = kohya as unknown as [string, string, string, string];
    // A1111's LoRA module type reads PEFT's lora_A / lora_B under kohya names too.
    const tensor = written
      .replace(/^lora_A(?:\.default)?\.weight$/, 'lora_down.weight')
      .replace(/^lora_B(?:\.default)?\.weight$/, 'lora_up.weight');
    const module = `${prefix}_${path}`;
    switch (prefix) {
      case 'lora_unet': {
        if (/^(double_blocks|single_blocks)_/.test(path)) return unknown('a Flux transformer', 'Flux');
        if (/^joint_blocks_/.test(path)) return unknown('an MMDiT transformer', 'SD 3');
        const family = unetFamily(path);
        if (LDM_ROOT.test(path)) {
          const ldm = ldmPath(path);
          if (ldm === null)
            return unknown(path.startsWith('label_emb') ? 'SDXL class embedding' : 'an LDM UNet path it does not know', family);
          return { kind: 'module', module, address: { part: 'unet', ldm }, tensor, family };
        }
        return { kind: 'module', module, address: { part: 'unet', key: `lora_unet_${path}` }, tensor, family };
      }
      case 'lora_te':
      case 'lora_te1':
        if (!path.startsWith('text_model_')) return unknown('a text-encoder path it does not know (OpenCLIP resblocks names are not read)');
        return { kind: 'module', module, address: { part: 'textEncoder', key: `lora_te_${path}` }, tensor, family: null };
      case 'lora_te2':
        return unknown("SDXL's second text encoder", 'SDXL');
      default:
        return unknown('a diffusion transformer (SD 3 or Flux)', 'SD 3 or Flux');
    }
  }

  const processor = PROCESSOR.exec(key);
  if (processor) {
    const module = `${processor[1]}.${processor[2] === 'to_out' ? 'to_out.0' : processor[2]}`;
    const hit = dottedAddress(module.replace(/^base_model\.model\./, ''));
    if ('reason' in hit) return unknown(hit.reason, hit.family ?? null);
    return { kind: 'module', module, address: hit.address, tensor: `lora_${processor[3]}.weight`, family: unetFamily(module) };
  }
  for (const [pattern, to] of DOTTED_TENSOR) {
    const hit = pattern.exec(key);
    if (!hit) continue;
    const module = key.slice(0, hit.index);
    const where = dottedAddress(module.replace(/^base_model\.model\./, ''));
    if ('reason' in where) return unknown(where.reason, where.family ?? null);
    return {
      kind: 'module',
      module,
      address: where.address,
      tensor: hit[0].replace(pattern, to),
      family: where.address.part === 'unet' ? unetFamily(module) : null,
    };
  }
  if (key.startsWith('bundle_emb.')) return unknown('embeddings bundled with the LoRA are not read');
  return unknown('not a LoRA tensor it knows');
}

/**
 * The diffusers-style kohya key of an address, for a UNet with `layersPerBlock` resnets per down
 * block (null: an LDM path that names no diffusers module).
 */
export function resolveAddress(address: ModuleAddress, layersPerBlock: number): string | null {
  if ('key' in address) return address.key;
  const name = unetName(`${address.ldm}.weight`, layersPerBlock);
  return name === null ? null : `lora_unet_${name.slice(0, -'.weight'.length).replace(/\./g, '_')}`;
}

/**
 * The layers per block of the UNet whose diffusers-style keys these are: one more than the last
 * resnet of the first down block (SD 1.x / 2.x: 2, the default when no key says).
 */
export function layersPerBlockOf(keys: Iterable<string>): number {
  let last = -1;
  for (const key of keys) {
    const m = /^lora_unet_down_blocks_0_(?:resnets|attentions)_(\d+)_/.exec(key);
    if (m) last = Math.max(last, Number(m[1]));
  }
  return last >= 0 ? last + 1 : 2;
}

/** "a ×3, b ×1" for the largest groups, with how many more there are. */
export function describeGroups(counts: ReadonlyMap<string, number>, shown = 5): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const text = sorted.slice(0, shown).map(([group, count]) => `${group} ×${count}`);
  return (
    text.join(', ') + (sorted.length > shown ? `, and ${sorted.length - shown} more group${sorted.length - shown === 1 ? '' : 's'}` : '')
  );
}

/** A module key's group: its indices elided (`lora_unet_down_blocks_N_resnets_N_conv1`). */
export function moduleGroup(key: string): string {
  return key.replace(/_\d+(?=_|$)/g, '_N');
}
