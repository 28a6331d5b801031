/**
 * "Test connection" for the language model endpoint: one tiny chat completion, so the base URL,
 * the model name and the key are all checked as drafting will use them. What is wrong is said in
 * a designer's words (no answer, a refused key, no chat endpoint at that address, an unknown model).
 */
import { chatUrl, LlmError, postChat, type LlmConfig } from './drafts.js';

const TEST_TIMEOUT_MS = 20_000;

export async function testLlmConnection(config: LlmConfig): Promise<{ ok: true; message: string }> {
  const url = chatUrl(config);
  const timeoutMs = config.timeoutMs ?? TEST_TIMEOUT_MS;
  const started = performance.now();
  const response = await postChat(
    config,
    { messages: [{ role: 'user', content: 'Reply with the single word OK.' }], max_tokens: 5, temperature: 0 },
    timeoutMs,
  );
  const detail = async (): Promise<string> => {
    try {
      const body = (await response.json()) as { error?: { message?: unknown } | string };
      const message = typeof body.error === 'string' ? body.error : body.error?.message;
      return typeof message === 'string' && message ? `: ${message.slice(0, 200)}` : '';
    } catch {
      return '';
    }
  };
  if (response.status === 401 || response.status === 403)
    throw new LlmError(`The language model at ${config.baseUrl} refused the API key (HTTP ${response.status}); check the key.`);
  if (response.status === 404) {
    const why = await detail();
    throw new LlmError(
      /model/i.test(why)
        ? `The language model at ${config.baseUrl} does not know the model "${config.model}"${why}.`
        : `No chat endpoint at ${url} (HTTP 404): the base URL of an OpenAI-compatible server usually ends in /v1.`,
    );
  }
  if (!response.ok) throw new LlmError(`The language model at ${config.baseUrl} answered HTTP ${response.status}${await detail()}.`);
  let content: unknown;
  try {
    content = ((await response.json()) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
  } catch {
    content = undefined;
  }
  if (typeof content !== 'string')
    throw new LlmError(`${url} answered, but not with a chat completion: is it an OpenAI-compatible server?`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return { ok: true, message: `The model ${config.model} at ${config.baseUrl} answered in ${seconds} s.` };
}
