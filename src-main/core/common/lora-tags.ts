/** LoRA tags in a prompt, as A1111 writes them: `<lora:name:weight>` (and LyCORIS's `<lyco:…>`). */

export interface LoraTag {
  name: string;
  /** Null when the weight is not a number. */
  weight: number | null;
}

/** Every `<lora:name:weight>` / `<lyco:name:weight[:…]>` tag in a prompt, in order. */
export function loraTags(prompt: string): LoraTag[] {
  return [...prompt.matchAll(/<(?:lora|lyco):([^:<>]+):([^:<>]+)(?::[^<>]*)?>/g)].map((m) => {
    const raw = m[2]!.trim();
    const weight = raw === '' ? NaN : Number(raw);
    return { name: m[1]!.trim(), weight: Number.isFinite(weight) ? weight : null };
  });
}
