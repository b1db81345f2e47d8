/**
 * The simulated camera's picture: colour bars with a moving sweep and a clock (or the webcam, if the
 * user allows it), drawn on a canvas at the state's fps, with the settings applied so a change is
 * visible at once: brightness, contrast and saturation as filters, the camera name, REC, the lights.
 */

export type State = Record<string, unknown>;

const WIDTH = 640;
const HEIGHT = 360;
const BARS = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];

export class TestPattern {
  readonly canvas: HTMLCanvasElement;
  readonly stream: MediaStream;
  private readonly ctx: CanvasRenderingContext2D;
  private state: State = {};
  private timer: ReturnType<typeof setInterval> | undefined;
  private frame = 0;
  private flashUntil = 0;
  private webcam: HTMLVideoElement | null = null;

  constructor() {
    this.canvas = document.createElement('canvas');
    this.canvas.width = WIDTH;
    this.canvas.height = HEIGHT;
    this.ctx = this.canvas.getContext('2d') as CanvasRenderingContext2D;
    this.stream = this.canvas.captureStream();
    this.draw();
    this.schedule(30);
  }

  apply(state: State): void {
    const fps = Number(state.fps ?? 30);
    if (fps !== Number(this.state.fps ?? 30)) this.schedule(fps);
    this.state = state;
    this.draw();
  }

  /** A white flash, as a shutter would. */
  snapshot(): void {
    this.flashUntil = performance.now() + 150;
  }

  async useWebcam(): Promise<void> {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: WIDTH, height: HEIGHT } });
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = media;
    await video.play();
    this.webcam = video;
  }

  private schedule(fps: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.draw(), 1000 / Math.min(60, Math.max(1, fps)));
  }

  private draw(): void {
    const { ctx, state } = this;
    const pct = (key: string) => Number(state[key] ?? 50) / 50;
    this.frame++;
    ctx.save();
    ctx.filter = `brightness(${pct('brightness')}) contrast(${pct('contrast')}) saturate(${pct('saturation')})`;
    if (this.webcam) ctx.drawImage(this.webcam, 0, 0, WIDTH, HEIGHT);
    else this.bars();
    ctx.restore();
    this.overlay();
    if (performance.now() < this.flashUntil) {
      ctx.fillStyle = 'rgba(255,255,255,0.8)';
      ctx.fillRect(0, 0, WIDTH, HEIGHT);
    }
  }

  private bars(): void {
    const { ctx } = this;
    const w = WIDTH / BARS.length;
    BARS.forEach((colour, i) => {
      ctx.fillStyle = colour;
      ctx.fillRect(i * w, 0, w + 1, HEIGHT * 0.7);
    });
    const ramp = ctx.createLinearGradient(0, 0, WIDTH, 0);
    ramp.addColorStop(0, '#000');
    ramp.addColorStop(1, '#fff');
    ctx.fillStyle = ramp;
    ctx.fillRect(0, HEIGHT * 0.7, WIDTH, HEIGHT * 0.3);
    // The sweep shows at a glance that frames are flowing.
    const x = ((this.frame * 4) % (WIDTH + 40)) - 40;
    ctx.fillStyle = '#ff3b30';
    ctx.fillRect(x, HEIGHT * 0.7, 40, HEIGHT * 0.3);
  }

  private overlay(): void {
    const { ctx, state } = this;
    ctx.font = '600 20px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    /** A boxed label; a negative x counts from the right edge. */
    const label = (text: string, x: number, y: number) => {
      const width = ctx.measureText(text).width;
      if (x < 0) x = WIDTH + x - width;
      ctx.fillStyle = 'rgba(0,0,0,0.6)';
      ctx.fillRect(x - 6, y - 4, width + 12, 30);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, x, y);
    };
    label(String(state['camera-name'] ?? 'Camera'), 12, 12);
    label(new Date().toLocaleTimeString(), -12, 12);
    label(
      `cam ${String(state['main-camera'] ?? 1)} · ${String(state.resolution ?? '')} · ${String(state.fps ?? 30)} fps`,
      12,
      HEIGHT - 40,
    );
    if (state.record === 'on' || state.record === 'pause') label(state.record === 'on' ? '● REC' : '❚❚ PAUSED', -12, 52);
    if (state['cam1-light'] === true || state['cam2-light'] === true) label('light on', -12, HEIGHT - 40);
  }
}
