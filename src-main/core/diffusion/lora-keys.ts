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
 * SDXL has the same names (kohya's sd-scripts and A1111 write its LDM paths with SDXL's own block
 * indices: three levels, no attention in the first, `output_blocks.{3i+2}.2.conv` upsamplers), a
 * second text encoder (`lora_te2_text_model_…`, `text_encoder_2.text_model.…`; `lora_te1_` and
 * `text_encoder.` are the first) and the text-time embedding (`label_emb.0.0` / `.2`, diffusers'
 * `add_embedding.linear_1` / `_2`).
 *
 * The family a key proves is kept with it (`lora_te2_`, `label_emb`, a transformer depth above 1:
 * SDXL; kohya's single `lora_te_text_model_`: SD 1.x/2.x; Flux and SD 3 transformers), so a LoRA of
 * another family is refused by name rather than reported as a count of unmatched layers.
 */
import { unetName } from './graph/checkpoint-weights.js';

/** The text encoder (SDXL's first), SDXL's second text encoder, the UNet. */
export type LoraPart = 'textEncoder' | 'textEncoder2' | 'unet';

/**
 * Where a module points: a diffusers-style kohya key (`lora_unet_…`, `lora_te_…` for the first text
 * encoder, `lora_te2_…` for the second), or an LDM UNet path resolved per model.
 */
export type ModuleAddress = { part: LoraPart; key: string } | { part: 'unet'; ldm: string };

/** The family of models a LoRA's keys or shapes prove ('SD 1.x/2.x': one of the two, not which). */
export type LoraFamily = 'SD 1.x' | 'SD 2.x' | 'SD 1.x/2.x' | 'SDXL' | 'SD 3' | 'Flux' | 'SD 3 or Flux';

export type ParsedKey =
  | { kind: 'module'; module: string; address: ModuleAddress; tensor: string; family: LoraFamily | null }
  | { kind: 'unknown'; group: string; family: LoraFamily | null };

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

/** The family that a UNet path proves (the text-time embedding and a transformer depth above 1 are SDXL's). */
function unetFamily(path: string): LoraFamily | null {
  if (/(^|[._])(label_emb|add_embedding)([._]|$)/.test(path)) return 'SDXL';
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
  if (m) return `${m[1]}.${m[2]}`;
  // SDXL's text-time embedding: label_emb.0.0 and label_emb.0.2 (Linear, SiLU, Linear).
  m = /^label_emb_0_([02])$/.exec(underscored);
  return m ? `label_emb.0.${m[1]}` : null;
}

const LDM_ROOT = /^(input_blocks|middle_block|output_blocks|time_embed|out|label_emb)_/;
const DIFFUSERS_UNET_ROOT = /^(down_blocks|mid_block|up_blocks|conv_in|conv_out|time_embedding|add_embedding|conv_norm_out)([._]|$)/;

/** A dotted diffusers / PEFT module path (after any `base_model.model.`) → its address, or why not. */
function dottedAddress(path: string): { address: ModuleAddress } | { reason: string; family?: LoraFamily } {
  const underscored = (prefix: string, rest: string): string => prefix + rest.replace(/\./g, '_');
  let m = /^unet\.(.+)$/.exec(path);
  if (m || DIFFUSERS_UNET_ROOT.test(path)) {
    const rest = m ? m[1]! : path;
    if (/^(input_blocks|middle_block|output_blocks)\./.test(rest)) return { address: { part: 'unet', ldm: rest } };
    return { address: { part: 'unet', key: underscored('lora_unet_', rest) } };
  }
  // diffusers / PEFT; ComfyUI's own saves name the encoders clip_l and clip_g.
  m = /^(?:text_encoder_2|text_encoders\.clip_g\.transformer)\.(text_model\..+)$/.exec(path);
  if (m) return { address: { part: 'textEncoder2', key: underscored('lora_te2_', m[1]!) } };
  if (/^(text_encoder_2|text_encoders\.clip_g)\./.test(path))
    return { reason: 'a second-text-encoder path it does not know', family: 'SDXL' };
  m = /^(?:text_encoder\.|text_encoders\.clip_l\.transformer\.)?(text_model\..+)$/.exec(path);
  if (m) return { address: { part: 'textEncoder', key: underscored('lora_te_', m[1]!) } };
  m = /^(?:model\.)?diffusion_model\.(.+)$/.exec(path);
  if (m) return { address: { part: 'unet', ldm: m[1]! } };
  if (/^(transformer\.)?(single_transformer_blocks|double_blocks|single_blocks)\./.test(path))
    return { reason: 'a Flux transformer', family: 'Flux' };
  if (/^(transformer\.)?joint_blocks\./.test(path) || /^transformer\.transformer_blocks\./.test(path))
    return { reason: 'an MMDiT transformer', family: 'SD 3' };
  return { reason: 'names no SD module' };
}

/** The family a dotted module's address proves: SDXL's second encoder, or its UNet's paths. */
function addressFamily(address: ModuleAddress, module: string): LoraFamily | null {
  if (address.part === 'textEncoder2') return 'SDXL';
  return address.part === 'unet' ? unetFamily(module) : null;
}

/** One key of a LoRA file: its module and tensor, or the group it is reported under. */
export function parseKey(key: string): ParsedKey {
  const unknown = (reason: string, family: LoraFamily | null = null): ParsedKey => ({
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
            return unknown(
              path.startsWith('label_emb') ? 'an SDXL text-time embedding path it does not know' : 'an LDM UNet path it does not know',
              family,
            );
          return { kind: 'module', module, address: { part: 'unet', ldm }, tensor, family };
        }
        return { kind: 'module', module, address: { part: 'unet', key: `lora_unet_${path}` }, tensor, family };
      }
      case 'lora_te':
      case 'lora_te1':
      case 'lora_te2': {
        const te2 = prefix === 'lora_te2';
        // kohya writes lora_te_ for SD 1.x/2.x's one encoder and lora_te1_ / lora_te2_ for SDXL's
        // two; some SD 1.x files also say lora_te1_ (A1111 reads both), so only te_ and te2_ decide.
        const family: LoraFamily | null = te2 ? 'SDXL' : null;
        if (!path.startsWith('text_model_'))
          return unknown('a text-encoder path it does not know (OpenCLIP resblocks names are not read)', family);
        return {
          kind: 'module',
          module,
          address: { part: te2 ? 'textEncoder2' : 'textEncoder', key: `${te2 ? 'lora_te2_' : 'lora_te_'}${path}` },
          tensor,
          family: prefix === 'lora_te' ? 'SD 1.x/2.x' : family,
        };
      }
      default:
        return unknown('a diffusion transformer (SD 3 or Flux)', 'SD 3 or Flux');
    }
  }

  const processor = PROCESSOR.exec(key);
  if (processor) {
    const module = `${processor[1]}.${processor[2] === 'to_out' ? 'to_out.0' : processor[2]}`;
    const hit = dottedAddress(module.replace(/^base_model\.model\./, ''));
    if ('reason' in hit) return unknown(hit.reason, hit.family ?? null);
    return {
      kind: 'module',
      module,
      address: hit.address,
      tensor: `lora_${processor[3]}.weight`,
      family: addressFamily(hit.address, module),
    };
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
      family: addressFamily(where.address, module),
    };
  }
  if (key.startsWith('bundle_emb.')) return unknown('embeddings bundled with the LoRA are not read');
  return unknown('not a LoRA tensor it knows');
}

/** SDXL's text-time embedding: LDM `label_emb.0.{0,2}` → diffusers `add_embedding.linear_{1,2}`. */
const LABEL_EMB: Record<string, string> = {
  'label_emb.0.0': 'lora_unet_add_embedding_linear_1',
  'label_emb.0.2': 'lora_unet_add_embedding_linear_2',
};

/**
 * The diffusers-style kohya key of an address, for a UNet with `layersPerBlock` resnets per down
 * block (null: an LDM path that names no diffusers module).
 */
export function resolveAddress(address: ModuleAddress, layersPerBlock: number): string | null {
  if ('key' in address) return address.key;
  const embedding = LABEL_EMB[address.ldm];
  if (embedding) return embedding;
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
