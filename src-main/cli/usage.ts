/** What a command line may say: the one usage error, and the option parsers that raise it. */
import { DEFAULT_PALETTE, type BrandColour } from '../core/api/index.js';
import { plainColourName } from '../core/color/index.js';
import { parseProviderChoice } from '../core/common/index.js';
import type { ServiceOptions } from '../core/services.js';

/**
 * A command line that cannot run as given: exit code 2, the message names the argument, and the
 * dispatcher points to the command's help. Anything else that fails is exit code 1.
 */
export class UsageError extends Error {}

/** `--name` as a number from min to max; `fallback` when it is not given. */
export function decimal(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

/** `--name` as a whole number written in digits, from min to max; `fallback` when it is not given. */
export function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

export type ProviderOption = NonNullable<ServiceOptions['provider']>;

/** `--provider` for the queue and the upscaler (auto when not given). */
export function provider(raw: string | undefined): ProviderOption {
  const parsed = parseProviderChoice(raw ?? 'auto');
  if ('error' in parsed) throw new UsageError(parsed.error);
  return parsed.choice;
}

/** `--brand HEX,…`: the brand colours, named like the app names them (default: the brand palette). */
export function brandPalette(raw: string | undefined): BrandColour[] {
  if (!raw) return [...DEFAULT_PALETTE];
  return raw.split(',').map((part) => {
    const hex = part.trim().toUpperCase();
    if (!/^#?[0-9A-F]{6}$/.test(hex)) throw new UsageError(`--brand: "${part}" is not a colour like #FE2C54`);
    const full = hex.startsWith('#') ? hex : `#${hex}`;
    return { name: DEFAULT_PALETTE.find((c) => c.hex === full)?.name ?? plainColourName(full), hex: full };
  });
}
