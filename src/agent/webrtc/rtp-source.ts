import { createSocket, type Socket } from 'node:dgram';
import { RtpPacket } from 'werift';
import type { Logger } from '../../core/log.ts';

/**
 * The camera's encoded video, as RTP on a loopback UDP port: what `ffmpeg … -f rtp
 * "$EDGECAM_RTP_URL"` sends. One source feeds every watch. A new stream (the publisher restarted,
 * so a new SSRC and new sequence numbers) is flagged, so each sender can keep its own numbering
 * continuous for the viewer. RTCP from the publisher goes to the next port and is read and dropped:
 * with nobody there, the ICMP errors it causes make ffmpeg log "Connection refused".
 */

export type RtpListener = (packet: RtpPacket, newStream: boolean) => void;

/** How long without packets before the stream counts as stopped. */
const STALE_MS = 3_000;
const CHECK_MS = 1_000;

export class RtpSource {
  private rtp: Socket | undefined;
  private rtcp: Socket | undefined;
  private readonly listeners = new Set<RtpListener>();
  private readonly waiters = new Set<() => void>();
  private ssrc: number | undefined;
  private lastPacketAt = 0;
  private packets = 0;
  private bytes = 0;
  private invalid = 0;
  private flowing = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Bytes per second over the last check interval. */
  private rate = 0;
  private bytesAtCheck = 0;

  constructor(
    readonly port: number,
    private readonly log: Logger,
  ) {}

  /** The URL a publisher sends to; pkt_size keeps each packet under the path MTU after SRTP's overhead. */
  get url(): string {
    return `rtp://127.0.0.1:${this.port}?pkt_size=1200`;
  }

  async bind(): Promise<void> {
    this.rtp = await bindUdp(this.port);
    this.rtcp = await bindUdp(this.port + 1);
    this.rtp.on('message', (data) => this.receive(data));
    this.rtcp.on('message', () => {});
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  subscribe(listener: RtpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True at once while video flows, else when the first packet arrives within `ms`. */
  waitForVideo(ms: number): Promise<boolean> {
    if (this.fresh()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const arrived = () => {
        clearTimeout(timer);
        this.waiters.delete(arrived);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(arrived);
        resolve(false);
      }, ms);
      this.waiters.add(arrived);
    });
  }

  /** "video arriving, 1.9 Mbit/s" or "no video …", for the agent's status. */
  status(): string {
    if (!this.fresh()) return `no video arriving on ${this.url}`;
    return `video arriving on ${this.url} (${(this.rate * 8e-6).toFixed(1)} Mbit/s)`;
  }

  stats(): { packets: number; bytes: number; flowing: boolean } {
    return { packets: this.packets, bytes: this.bytes, flowing: this.fresh() };
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    for (const wake of [...this.waiters]) wake();
    const sockets = [this.rtp, this.rtcp].filter((s): s is Socket => s !== undefined);
    this.rtp = this.rtcp = undefined;
    return Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => {});
  }

  private receive(data: Buffer): void {
    // RTP version 2 and a whole header; anything else on the port is not a publisher's video.
    if (data.length < 12 || ((data[0] as number) & 0xc0) !== 0x80) return this.reject();
    const ssrc = data.readUInt32BE(8);
    // Parsed only for someone: with nobody watching, a packet costs a header check.
    let packet: RtpPacket | undefined;
    if (this.listeners.size > 0) {
      try {
        packet = RtpPacket.deSerialize(data);
      } catch {
        return this.reject();
      }
    }
    const newStream = ssrc !== this.ssrc;
    if (newStream) {
      this.log.info(this.ssrc === undefined ? 'video arriving' : 'video arriving from a new stream', {
        url: this.url,
        ssrc,
        payload_type: (data[1] as number) & 0x7f,
      });
      this.ssrc = ssrc;
    } else if (!this.flowing) {
      this.log.info('video arriving again', { url: this.url });
    }
    this.flowing = true;
    this.lastPacketAt = Date.now();
    this.packets++;
    this.bytes += data.length;
    if (packet) for (const listener of this.listeners) listener(packet, newStream);
    for (const wake of [...this.waiters]) wake();
  }

  private reject(): void {
    if (this.invalid++ === 0) this.log.warn('ignoring UDP packets that are not RTP', { url: this.url });
  }

  private check(): void {
    this.rate = ((this.bytes - this.bytesAtCheck) * 1000) / CHECK_MS;
    this.bytesAtCheck = this.bytes;
    if (this.flowing && !this.fresh()) {
      this.flowing = false;
      this.log.warn('no video arriving', { url: this.url, silent_s: STALE_MS / 1000 });
    }
  }

  private fresh(): boolean {
    return Date.now() - this.lastPacketAt < STALE_MS;
  }
}

function bindUdp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`UDP port ${port} on 127.0.0.1 is in use (another agent?): choose another with --rtp-port`)
          : error,
      );
    });
    socket.bind(port, '127.0.0.1', () => {
      socket.removeAllListeners('error');
      // A socket with no error listener would crash the process on a late error.
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}
