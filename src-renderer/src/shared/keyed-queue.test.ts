import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './keyed-queue';

/** A task whose answer comes when the test says, recording when it started and ended. */
function deferred(log: string[], name: string): { task: () => Promise<string>; answer: () => void; fail: () => void } {
  let resolve!: (value: string) => void;
  let reject!: (error: Error) => void;
  const answer = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    task: () => {
      log.push(`${name} sent`);
      return answer.then((v) => {
        log.push(`${name} answered`);
        return v;
      });
    },
    answer: () => resolve(name),
    fail: () => reject(new Error(`${name} refused`)),
  };
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('KeyedQueue', () => {
  it("sends a key's second task (an undo) only after its first (the reject) is answered", async () => {
    const queue = new KeyedQueue<number>();
    const log: string[] = [];
    const reject = deferred(log, 'reject 7');
    const undo = deferred(log, 'undo 7');
    const first = queue.run([7], reject.task);
    const second = queue.run([7], undo.task);
    await settle();
    expect(log).toEqual(['reject 7 sent']);
    expect(queue.busy(7)).toBe(true);
    // The undo is answered first if it could be: it has not even been sent.
    undo.answer();
    await settle();
    expect(log).toEqual(['reject 7 sent']);
    reject.answer();
    await expect(first).resolves.toBe('reject 7');
    await expect(second).resolves.toBe('undo 7');
    expect(log).toEqual(['reject 7 sent', 'reject 7 answered', 'undo 7 sent', 'undo 7 answered']);
    await settle();
    expect(queue.busy(7)).toBe(false);
  });

  it('runs tasks of other keys alongside; a task of several keys waits for each of them', async () => {
    const queue = new KeyedQueue<number>();
    const log: string[] = [];
    const one = deferred(log, 'a');
    const two = deferred(log, 'b');
    const both = deferred(log, 'a+b');
    void queue.run([1], one.task);
    void queue.run([2], two.task);
    const last = queue.run([1, 2, 2], both.task);
    await settle();
    expect(log).toEqual(['a sent', 'b sent']);
    two.answer();
    await settle();
    expect(log).toEqual(['a sent', 'b sent', 'b answered']);
    one.answer();
    await settle();
    expect(log.slice(-2)).toEqual(['a answered', 'a+b sent']);
    both.answer();
    await expect(last).resolves.toBe('a+b');
  });

  it('a refused task still lets the next one of its key go, and its caller hears the refusal', async () => {
    const queue = new KeyedQueue<number>();
    const log: string[] = [];
    const refused = deferred(log, 'reject 3');
    const next = deferred(log, 'rate 3');
    const first = queue.run([3], refused.task);
    const second = queue.run([3], next.task);
    refused.fail();
    await expect(first).rejects.toThrow('reject 3 refused');
    await settle();
    expect(log).toEqual(['reject 3 sent', 'rate 3 sent']);
    next.answer();
    await expect(second).resolves.toBe('rate 3');
  });

  it('a task with nothing before it starts in the same turn (the request leaves on the key press)', async () => {
    const queue = new KeyedQueue<number>();
    const log: string[] = [];
    const first = deferred(log, 'rate 5');
    const done = queue.run([5], first.task);
    expect(log).toEqual(['rate 5 sent']);
    const waiting = deferred(log, 'rate 5 again');
    const second = queue.run([5], waiting.task);
    expect(log).toEqual(['rate 5 sent']);
    first.answer();
    await expect(done).resolves.toBe('rate 5');
    await settle();
    expect(log).toEqual(['rate 5 sent', 'rate 5 answered', 'rate 5 again sent']);
    waiting.answer();
    await expect(second).resolves.toBe('rate 5 again');
  });

  it('a task that throws before it returns a promise rejects its caller and blocks nothing', async () => {
    const queue = new KeyedQueue<number>();
    const failed = queue.run([7], () => {
      throw new Error('no client');
    });
    await expect(failed).rejects.toThrow('no client');
    await expect(queue.run([7], () => Promise.resolve('next'))).resolves.toBe('next');
  });
});
