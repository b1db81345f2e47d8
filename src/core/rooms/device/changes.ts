import type { Applied } from '../../contract.ts';
import { type Actor, validateChanges } from '../../state/model.ts';
import type { StateStore } from '../../state/store.ts';
import type { ChangeChannel } from './change-channel.ts';

/**
 * Every change to a device's state, from any protocol, goes through `apply`: the whole batch is
 * validated, then stored, then published to each channel in turn — the order every protocol relies on
 * (an acknowledged change is already persisted). Triggers (one-shot actions) are not state: they go to
 * the device only.
 */
export class Changes {
  constructor(
    private readonly store: StateStore,
    private readonly channels: readonly ChangeChannel[],
    private readonly trigger: (name: string) => void,
  ) {}

  apply(actor: Actor, input: Record<string, unknown>, requestId?: string): Applied {
    const checked = validateChanges(actor, input);
    if (!checked.ok) return checked;
    const { triggers } = checked;
    let changes = checked.changes;
    // A device repeats its whole applied state in every report: only what differs is a change.
    if (actor.kind === 'device')
      changes = Object.fromEntries(Object.entries(changes).filter(([k, v]) => this.store.state[k] !== v));
    let seq = this.store.seq;
    if (Object.keys(changes).length > 0) {
      seq = this.store.apply(changes);
      for (const channel of this.channels) channel.publish(changes, seq, actor, requestId);
    }
    for (const name of triggers) this.trigger(name);
    const applied: Record<string, unknown> = { ...changes };
    for (const name of triggers) applied[name] = true;
    return { ok: true, applied, seq };
  }
}
