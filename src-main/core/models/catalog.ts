/**
 * The curated models a designer can download in one click: few, public (no token needed), with
 * their licences. Sizes are what the Hub lists; the real sizes and hashes come from the Hub's
 * revision info at download time, and a checkpoint's content is also checked against the SHA-256
 * recorded here.
 */
import type { CatalogEntry } from '../api/index.js';

export interface CatalogModel extends Omit<CatalogEntry, 'installed'> {
  /** For a folder: which repo paths to fetch. */
  files?: (path: string) => boolean;
  /** The checkpoint's expected SHA-256 (checked as well as the Hub's). */
  sha256?: string;
}

const OPENRAIL = 'CreativeML OpenRAIL-M';
const OPENRAIL_URL = 'https://huggingface.co/spaces/CompVis/stable-diffusion-license';

/** A diffusers folder's files for a Stable Diffusion pipeline in float16: configs, tokenizer, scheduler, the fp16 weights. */
function diffusersFp16(p: string): boolean {
  if (/^(safety_checker|feature_extractor)\//.test(p)) return false;
  if (p === 'model_index.json' || /^(tokenizer|scheduler)\//.test(p)) return true;
  return /^(unet|vae|text_encoder)\/(config\.json|(diffusion_pytorch_model|model)\.fp16\.safetensors)$/.test(p);
}

/** A diffusers ONNX folder's files. */
function onnxFolder(p: string): boolean {
  return p === 'model_index.json' || /^(tokenizer|scheduler|text_encoder|unet|vae_decoder|vae_encoder)\//.test(p);
}

export const CATALOG: readonly CatalogModel[] = [
  {
    id: 'sd15',
    title: 'Stable Diffusion 1.5',
    description: "The classic base model (float16, EMA weights); the one most LoRAs are made for. Onbrand's default.",
    kind: 'checkpoint',
    repo: 'Comfy-Org/stable-diffusion-v1-5-archive',
    revision: 'main',
    file: 'v1-5-pruned-emaonly-fp16.safetensors',
    sha256: 'e9476a13728cd75d8279f6ec8bad753a66a1957ca375a1464dc63b37db6e3916',
    bytes: 2_132_625_894,
    licence: OPENRAIL,
    licenceUrl: OPENRAIL_URL,
    name: 'Stable Diffusion 1.5',
  },
  {
    id: 'dreamshaper-8',
    title: 'DreamShaper 8',
    description: 'A popular general-purpose SD 1.5 fine-tune: portraits, products, illustration (diffusers folder, float16).',
    kind: 'diffusers',
    repo: 'Lykon/dreamshaper-8',
    revision: 'main',
    file: null,
    files: diffusersFp16,
    bytes: 2_135_000_000,
    licence: OPENRAIL,
    licenceUrl: OPENRAIL_URL,
    name: 'DreamShaper 8',
  },
  {
    id: 'sd15-onnx',
    title: 'Stable Diffusion 1.5 (ONNX export)',
    description: 'The same base model as an ONNX float16 export, for comparing with other ONNX apps.',
    kind: 'onnx',
    repo: 'nmkd/stable-diffusion-1.5-onnx-fp16',
    revision: 'main',
    file: null,
    files: onnxFolder,
    bytes: 2_130_000_000,
    licence: OPENRAIL,
    licenceUrl: OPENRAIL_URL,
    name: 'Stable Diffusion 1.5 (ONNX)',
  },
];

/** CLIP ViT-L/14's tokenizer, for checkpoints (which carry none). */
export const CLIP_TOKENIZER = { repo: 'openai/clip-vit-large-patch14', revision: 'main', files: ['vocab.json', 'merges.txt'] } as const;

export { diffusersFp16, onnxFolder };
