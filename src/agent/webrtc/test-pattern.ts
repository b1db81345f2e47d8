import type { VideoCodec } from '../options.ts';

/**
 * `--simulate --webrtc rtp` without `--stream`: a moving ffmpeg test pattern instead of a camera, encoded
 * as a Pi would send it and published to the agent's RTP port. It is a shell command like any
 * `--stream`, so it gets the same settings (resolution, fps, bitrate) and restarts when they change.
 * `dump_extra` repeats H.264's SPS/PPS before each keyframe, as `rpicam-vid --inline` does: a viewer
 * that joins mid-stream can decode from the next keyframe, one second away (`-g` = fps).
 */
export function testPatternCommand(codec: VideoCodec): string {
  const encoder =
    codec === 'h264'
      ? '-c:v libx264 -profile:v baseline -preset ultrafast -tune zerolatency -bsf:v dump_extra'
      : '-c:v libvpx -deadline realtime -cpu-used 8 -error-resilient 1';
  const check =
    'command -v ffmpeg >/dev/null || { echo "the simulated camera needs ffmpeg: apt-get install ffmpeg" >&2; exit 127; }';
  return `${check}\n${[
    'exec ffmpeg -hide_banner -loglevel error -re -f lavfi',
    '-i "testsrc2=size=$EDGECAM_RESOLUTION:rate=$EDGECAM_FPS" -pix_fmt yuv420p',
    `${encoder} -g "$EDGECAM_FPS" -b:v "$EDGECAM_BITRATE_BPS" -maxrate "$EDGECAM_BITRATE_BPS" -bufsize "$EDGECAM_BITRATE_BPS"`,
    '-f rtp "$EDGECAM_RTP_URL"',
  ].join(' ')}`;
}
