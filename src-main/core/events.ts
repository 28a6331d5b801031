import type { AppEvent, EventPayload, EventType } from './api/index.js';

export type EventListener = (event: AppEvent) => void;

/** The core's event stream: services emit, shells (IPC, WebSocket, CLI) subscribe. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  emit<E extends EventType>(type: E, payload: EventPayload<E>): void {
    const event = { type, payload } as AppEvent;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // One broken subscriber (a closed socket, a destroyed window) must not stop the others.
        console.error(`onbrand: event listener failed for ${type}:`, error);
      }
    }
  }

  /** Returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
