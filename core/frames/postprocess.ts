import sharp, { type Sharp } from 'sharp';
import { metrics } from '../metrics';
import { detectBlank, validateBlankThresholds, type BlankReason, type BlankThresholds, type PixelRegion } from './blank';
import type { Frame } from './frame';
import { jpegDimensions } from './jpeg';

export type OverlayPosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
export type ResizeFit = 'inside' | 'cover' | 'fill';
export type Rotation = 0 | 90 | 180 | 270;

export interface OverlayOptions {
  /** Fixed text such as the camera name. */
  text?: string;
  /** Adds the frame's capture time as YYYY-MM-DD HH:mm:ss. */
  timestamp?: boolean;
  /** IANA zone for the timestamp (e.g. "Europe/Berlin"); the server's zone when absent. */
  timeZone?: string;
  position: OverlayPosition;
}

export interface ResizeOptions {
  width?: number;
  height?: number;
  /** inside: keep the aspect ratio within the box; cover: fill the box and cut the overflow; fill: stretch. */
  fit: ResizeFit;
  /** Only ever shrink: a smaller picture keeps its size (the box is a maximum). */
  withoutEnlargement?: boolean;
}

/** A region in normalised coordinates: 0..1 of the input's width and height. */
export interface CropOptions {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface PostProcessOptions {
  overlay?: OverlayOptions;
  resize?: ResizeOptions;
  rotate?: Rotation;
  crop?: CropOptions;
  /** JPEG quality of the output, 1-100. */
  quality: number;
  rejectBlank?: { enabled: boolean } & Partial<BlankThresholds>;
}

/** Why a frame was not passed on: a blank picture, or bytes that do not decode. */
export type PostProcessRejectReason = BlankReason | 'corrupt';

export type PostProcessResult = Frame | { rejected: PostProcessRejectReason };

const POSITIONS: OverlayPosition[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
const FITS: ResizeFit[] = ['inside', 'cover', 'fill'];
const MAX_SIDE = 16384;
const MAX_OVERLAY_TEXT = 120;
/** DejaVu is what Debian installs with fontconfig; the generic family covers every other system. */
const FONT_FAMILY = 'DejaVu Sans Mono, monospace';
/** Advance width of a monospace glyph relative to its font size, for sizing the overlay box without measuring. */
const GLYPH_WIDTH = 0.62;

/**
 * Crop → rotate → resize → overlay → JPEG, on a copy: the input frame and its Buffer are never changed, because
 * Node-RED fan-out hands the same Buffer to every wire.
 */
export class FramePostProcessor {
  private readonly options: PostProcessOptions;
  private readonly blank: BlankThresholds | null;
  private readonly clock: Intl.DateTimeFormat | null;

  constructor(options: PostProcessOptions) {
    this.options = validatePostProcessOptions(options);
    const { rejectBlank, overlay } = this.options;
    this.blank = rejectBlank?.enabled ? validateBlankThresholds(rejectBlank, 'rejectBlank') : null;
    this.clock = overlay?.timestamp ? timestampFormat(overlay.timeZone) : null;
  }

  /** Whether processed frames show a different area or orientation than the decoded picture (crop, rotate, resize). */
  changesGeometry(): boolean {
    const { crop, rotate, resize } = this.options;
    return crop !== undefined || (rotate !== undefined && rotate !== 0) || resize !== undefined;
  }

  async process(frame: Frame): Promise<PostProcessResult> {
    const { camera } = frame.meta;
    const size = jpegDimensions(frame.jpeg);
    if (size === null) return this.reject(camera, 'corrupt');
    const region = this.options.crop ? cropRegion(this.options.crop, size.width, size.height) : undefined;
    try {
      if (this.blank) {
        const reason = await detectBlank(frame.jpeg, this.blank, region);
        if (reason !== null) return this.reject(camera, reason);
      }
      // Nothing to change (e.g. only a maximum size the frame already fits): pass the frame on untouched, without
      // paying for (and losing quality to) a decode and re-encode.
      if (this.options.resize && !region && !this.options.rotate && !this.options.overlay && this.fitsUnchanged(size)) return frame;
      const { data, info } = await this.pipeline(frame, size, region).toBuffer({ resolveWithObject: true });
      return { jpeg: data, meta: { ...frame.meta, width: info.width, height: info.height, bytes: data.length } };
    } catch (err) {
      // A JPEG whose header parses but whose scan does not decode gets the same verdict as from the splitter;
      // anything else is a fault here, not in the frame, and must not be hidden as a rejected frame.
      if (isDecodeError(err)) return this.reject(camera, 'corrupt');
      throw new Error(`camera ${camera}, frame ${frame.meta.sequence}: post-processing failed: ${(err as Error).message}`);
    }
  }

  private fitsUnchanged(size: { width: number; height: number }): boolean {
    const resize = this.options.resize;
    if (!resize?.withoutEnlargement || resize.fit !== 'inside') return false;
    return (resize.width === undefined || size.width <= resize.width) && (resize.height === undefined || size.height <= resize.height);
  }

  private pipeline(frame: Frame, size: { width: number; height: number }, region: PixelRegion | undefined): Sharp {
    const { rotate = 0, resize, overlay, quality } = this.options;
    let image = sharp(frame.jpeg, { failOn: 'error' });
    let width = region?.width ?? size.width;
    let height = region?.height ?? size.height;
    // Once a resize follows, sharp turns the picture before it extracts, whatever the call order; so the crop
    // is always mapped into the turned picture's coordinates and applied after the turn, with or without a resize.
    if (rotate !== 0) {
      image = image.rotate(rotate);
      if (rotate !== 180) [width, height] = [height, width];
    }
    if (region) image = image.extract(rotatedRegion(region, size, rotate));
    if (resize) {
      image = image.resize({ width: resize.width, height: resize.height, fit: resize.fit, withoutEnlargement: resize.withoutEnlargement });
      ({ width, height } = resizedSize(width, height, resize));
    }
    if (overlay) {
      const svg = this.overlaySvg(overlay, frame.meta.timestamp, width, height);
      if (svg) image = image.composite([{ input: svg, gravity: GRAVITY[overlay.position] }]);
    }
    return image.jpeg({ quality, mozjpeg: false });
  }

  /**
   * Text on a dark translucent box, so it stays readable on any scene. The box is sized from the glyph count
   * (the font is monospace) and kept a few pixels smaller than the picture, which sharp's composite requires.
   */
  private overlaySvg(overlay: OverlayOptions, timestamp: number, width: number, height: number): Buffer | null {
    const parts = [overlay.text, this.clock ? formatTimestamp(this.clock, timestamp) : undefined].filter((part) => part);
    const line = parts.join('  ');
    if (line === '' || width < 8 || height < 8) return null;
    const padding = 4;
    const fontSize = Math.max(8, Math.min(Math.round(height / 22), Math.floor((width - 4 - 2 * padding) / (line.length * GLYPH_WIDTH))));
    const boxWidth = Math.min(width - 2, Math.ceil(line.length * fontSize * GLYPH_WIDTH) + 2 * padding);
    const boxHeight = Math.min(height - 2, Math.ceil(fontSize * 1.3) + padding);
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${boxWidth}" height="${boxHeight}">` +
      `<rect width="100%" height="100%" fill="#000" fill-opacity="0.55"/>` +
      `<text x="${padding}" y="${Math.round(boxHeight / 2)}" dominant-baseline="central" font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="#fff">${escapeXml(line)}</text></svg>`;
    return Buffer.from(svg);
  }

  private reject(camera: string, reason: PostProcessRejectReason): { rejected: PostProcessRejectReason } {
    metrics.framesRejectedTotal.inc({ camera, reason });
    return { rejected: reason };
  }
}

const GRAVITY: Record<OverlayPosition, string> = {
  'top-left': 'northwest',
  'top-right': 'northeast',
  'bottom-left': 'southwest',
  'bottom-right': 'southeast',
};

/** Normalised crop to whole pixels, at least one pixel and never past the input's edge. */
export function cropRegion(crop: CropOptions, width: number, height: number): PixelRegion {
  const left = Math.min(width - 1, Math.round(crop.left * width));
  const top = Math.min(height - 1, Math.round(crop.top * height));
  return {
    left,
    top,
    width: Math.max(1, Math.min(width - left, Math.round(crop.width * width))),
    height: Math.max(1, Math.min(height - top, Math.round(crop.height * height))),
  };
}

/** Where a region of the input lies once the input is turned clockwise by `rotate`. */
export function rotatedRegion(region: PixelRegion, size: { width: number; height: number }, rotate: Rotation): PixelRegion {
  const { left, top, width, height } = region;
  switch (rotate) {
    case 0:
      return region;
    case 90:
      return { left: size.height - (top + height), top: left, width: height, height: width };
    case 180:
      return { left: size.width - (left + width), top: size.height - (top + height), width, height };
    case 270:
      return { left: top, top: size.width - (left + width), width: height, height: width };
  }
}

/** The size sharp's resize will produce, give or take a rounding pixel (only used to size the overlay). */
function resizedSize(width: number, height: number, resize: ResizeOptions): { width: number; height: number } {
  const w = resize.width;
  const h = resize.height;
  if (w !== undefined && h !== undefined) {
    if (resize.fit !== 'inside') return { width: w, height: h };
    const scale = resize.withoutEnlargement ? Math.min(1, w / width, h / height) : Math.min(w / width, h / height);
    return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
  }
  if (w !== undefined) return { width: w, height: Math.max(1, Math.round((height * w) / width)) };
  if (h !== undefined) return { width: Math.max(1, Math.round((width * h) / height)), height: h };
  return { width, height };
}

function isDecodeError(err: unknown): boolean {
  return err instanceof Error && /^VipsJpeg:|unsupported image format/.test(err.message);
}

function timestampFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    throw new Error(`overlay.timeZone ${JSON.stringify(timeZone)} is invalid: expected an IANA time zone such as "Europe/Berlin" or "UTC"`);
  }
}

function formatTimestamp(clock: Intl.DateTimeFormat, timestamp: number): string {
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const { type, value } of clock.formatToParts(timestamp)) part[type] = value;
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Checks options from code or a node's config and returns them; every error names the field and what it expects. */
export function validatePostProcessOptions(options: PostProcessOptions): PostProcessOptions {
  checkKeys(options, ['overlay', 'resize', 'rotate', 'crop', 'quality', 'rejectBlank'], '');
  const { quality, rotate, crop, resize, overlay, rejectBlank } = options;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new Error(`quality ${JSON.stringify(quality)} is invalid: expected a whole number from 1 to 100`);
  }
  if (rotate !== undefined && ![0, 90, 180, 270].includes(rotate)) {
    throw new Error(`rotate ${JSON.stringify(rotate)} is invalid: expected a right angle, 0, 90, 180 or 270`);
  }
  if (crop) checkCrop(crop);
  if (resize) checkResize(resize);
  if (overlay) checkOverlay(overlay);
  if (rejectBlank) {
    checkKeys(rejectBlank, ['enabled', 'blackLevel', 'whiteLevel', 'minShare', 'flatStddev'], 'rejectBlank.');
    if (typeof rejectBlank.enabled !== 'boolean')
      throw new Error(`rejectBlank.enabled ${JSON.stringify(rejectBlank.enabled)} is invalid: expected true or false`);
  }
  return options;
}

/** A misspelt option would otherwise be ignored without a word. */
function checkKeys(value: object, allowed: string[], prefix: string): void {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw new Error(`${prefix}${unknown} is not an option: expected only ${allowed.join(', ')}`);
}

function checkCrop(crop: CropOptions): void {
  checkKeys(crop, ['left', 'top', 'width', 'height'], 'crop.');
  for (const key of ['left', 'top', 'width', 'height'] as const) {
    const value = crop[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new Error(`crop.${key} ${JSON.stringify(value)} is invalid: expected a share of the picture from 0 to 1`);
    }
  }
  if (crop.width === 0 || crop.height === 0) throw new Error('crop.width and crop.height must be above 0: an empty crop leaves no picture');
  // A little slack for values such as 0.1 + 0.9 that do not add up to exactly 1 in floating point.
  if (crop.left + crop.width > 1 + 1e-9) throw new Error(`crop.left + crop.width (${crop.left} + ${crop.width}) is past the right edge: expected at most 1`);
  if (crop.top + crop.height > 1 + 1e-9) throw new Error(`crop.top + crop.height (${crop.top} + ${crop.height}) is past the bottom edge: expected at most 1`);
}

function checkResize(resize: ResizeOptions): void {
  checkKeys(resize, ['width', 'height', 'fit', 'withoutEnlargement'], 'resize.');
  if (resize.withoutEnlargement !== undefined && typeof resize.withoutEnlargement !== 'boolean')
    throw new Error('resize.withoutEnlargement must be true or false');
  if (!FITS.includes(resize.fit)) throw new Error(`resize.fit ${JSON.stringify(resize.fit)} is invalid: expected one of ${FITS.join(', ')}`);
  for (const key of ['width', 'height'] as const) {
    const value = resize[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > MAX_SIDE)) {
      throw new Error(`resize.${key} ${JSON.stringify(value)} is invalid: expected a whole number of pixels from 1 to ${MAX_SIDE}`);
    }
  }
  if (resize.width === undefined && resize.height === undefined) throw new Error('resize needs a width, a height or both');
  if (resize.fit !== 'inside' && (resize.width === undefined || resize.height === undefined)) {
    throw new Error(`resize.fit "${resize.fit}" needs both width and height: with only one, use "inside"`);
  }
}

function checkOverlay(overlay: OverlayOptions): void {
  checkKeys(overlay, ['text', 'timestamp', 'timeZone', 'position'], 'overlay.');
  if (!POSITIONS.includes(overlay.position)) {
    throw new Error(`overlay.position ${JSON.stringify(overlay.position)} is invalid: expected one of ${POSITIONS.join(', ')}`);
  }
  const { text } = overlay;
  if (text !== undefined) {
    // XML 1.0 cannot carry most control characters, even escaped, so the SVG would not render.
    // eslint-disable-next-line no-control-regex
    if (typeof text !== 'string' || text.length > MAX_OVERLAY_TEXT || /[\u0000-\u001f\u007f]/.test(text)) {
      throw new Error(`overlay.text is invalid: expected up to ${MAX_OVERLAY_TEXT} characters without control characters`);
    }
  }
  if (!text && !overlay.timestamp) throw new Error('overlay needs text, timestamp: true, or both');
  if (overlay.timeZone !== undefined && !overlay.timestamp)
    throw new Error('overlay.timeZone is set but overlay.timestamp is not: the zone is only used for the timestamp');
  if (overlay.timestamp) timestampFormat(overlay.timeZone);
}
