import type { DeviceResult, Schedule, ScheduleRoomApi } from '../contract.ts';
import { Room } from '../room.ts';

/**
 * Every schedule, for listing and changing them. It does none of the work at fire time: each device
 * room named by a schedule keeps its own copy and runs it on its own alarm (device/schedules.ts), then
 * reports here how it went.
 */

/** Schedules the server keeps: a bound on what accounts can make it store and run. */
export const MAX_SCHEDULES = 1000;

export class ScheduleRoom extends Room implements ScheduleRoomApi {
  list(): Schedule[] {
    return [...this.ctx.storage.list<Schedule>('schedule:').values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  get(id: string): Schedule | null {
    return this.ctx.storage.get<Schedule>(`schedule:${id}`) ?? null;
  }

  put(schedule: Schedule): void {
    this.ctx.storage.put(`schedule:${schedule.id}`, schedule);
  }

  remove(id: string): Schedule | null {
    const current = this.get(id);
    if (current) this.ctx.storage.delete(`schedule:${id}`);
    return current;
  }

  removeDevice(deviceId: string): void {
    for (const schedule of this.list()) {
      if (!schedule.devices.includes(deviceId)) continue;
      const devices = schedule.devices.filter((id) => id !== deviceId);
      if (devices.length === 0) this.ctx.storage.delete(`schedule:${schedule.id}`);
      else this.put({ ...schedule, devices });
    }
  }

  recordRun(id: string, at: string, device: string, result: DeviceResult): void {
    const schedule = this.get(id);
    if (!schedule) return;
    // Each device reports its own part of a run; a later run starts a new record.
    const sameRun = schedule.last_run?.at === at;
    const results = { ...(sameRun ? schedule.last_run?.results : {}), [device]: result };
    const next: Schedule = { ...schedule, last_run: { at, results } };
    // A one-shot schedule has run: it is done.
    if (schedule.at !== undefined) next.enabled = false;
    if (!sameRun && schedule.last_run && schedule.last_run.at > at) return;
    this.put(next);
  }
}
