/**
 * The execution providers a person can ask for (`--provider`, the engine's choice): `auto` tries
 * the platform's GPU provider, then the CPU (backend.ts `providerOrder`). No runtime imports: the
 * CLI and the host check their flags against this without loading onnxruntime.
 */
export const PROVIDER_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

/** The value of a `--provider` flag, or an error message that names what was wrong. */
export function parseProviderChoice(raw: string): { choice: ProviderChoice } | { error: string } {
  if ((PROVIDER_CHOICES as readonly string[]).includes(raw)) return { choice: raw as ProviderChoice };
  return { error: `--provider must be ${PROVIDER_CHOICES.slice(0, -1).join(', ')} or ${PROVIDER_CHOICES.at(-1)!}, not "${raw}"` };
}
