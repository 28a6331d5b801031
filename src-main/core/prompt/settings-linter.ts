/**
 * The settings linter: the designers' field notes as hints next to the settings. Never blocking;
 * each hint says what to try instead.
 */
import type { GenerationSettings } from '../api/index.js';
import { fastModeOfName, isDraftLora } from '../common/index.js';
import { extractLoraTags, loraHints } from '../diffusion/index.js';

export function lintSettings(prompt: string, settings: { [K in keyof GenerationSettings]?: GenerationSettings[K] | undefined }): string[] {
  const hints: string[] = [];
  if (settings.cfg !== undefined && settings.cfg > 9)
    hints.push(`CFG ${settings.cfg}: above 9 colours scream but posterise; 7 balances prompt loyalty and pleasant noise.`);
  if (settings.steps !== undefined && settings.steps > 30)
    hints.push(`${settings.steps} steps: past 30 returns diminish; 25 keeps edges with DPM++ 2M Karras.`);
  let loras: { name: string; weight: number }[] = [];
  try {
    loras = extractLoraTags(prompt).loras;
  } catch {
    // A malformed tag is reported when the job is queued; hints stay quiet about it.
  }
  // A fast-draft LoRA runs at weight 1 by design: the style LoRAs' weight notes are not for it.
  hints.push(...loraHints(loras.filter((l) => !isDraftLora(l.name))));
  // A fast-draft LoRA (LCM, Lightning, Hyper-SD) at full settings burns: it was distilled for few steps and low CFG.
  for (const lora of loras.filter((l) => isDraftLora(l.name))) {
    const mode = fastModeOfName(lora.name)!;
    if (settings.cfg !== undefined && settings.cfg > mode.cfgRange[1])
      hints.push(
        `${lora.name} is made for ${mode.label}: it wants CFG ${mode.cfg} and ${mode.steps} steps (${mode.sampler}, ${mode.scheduleType}); at CFG ${settings.cfg} images burn.`,
      );
  }
  const aspect = settings.aspect ?? (settings.width && settings.height ? `${settings.width}:${settings.height}` : undefined);
  if (/\babstract\b/i.test(prompt) && aspect !== undefined && aspect !== '1:1' && settings.width !== settings.height) {
    hints.push('Abstract backgrounds: try 1:1; Sora squashes less on scroll.');
  }
  return hints;
}
