import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFfmpegArgs } from '../../core/capture/ffmpeg-args';
import { redactText, redactUrl, validateInput } from '../../core/capture/input';

let root: string;
let mediaDir: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'glimpser-input-')));
  mediaDir = path.join(root, 'media');
  mkdirSync(path.join(mediaDir, 'clips'), { recursive: true });
  writeFileSync(path.join(mediaDir, 'clips', 'door.mp4'), 'not really a video');
  writeFileSync(path.join(root, 'secret.txt'), 'outside the media folder');
  symlinkSync('/etc/passwd', path.join(mediaDir, 'passwd-link'));
  symlinkSync(path.join(root, 'secret.txt'), path.join(mediaDir, 'clips', 'sneaky.mp4'));
  symlinkSync(path.join(mediaDir, 'clips', 'door.mp4'), path.join(mediaDir, 'alias.mp4'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('validateInput: urls', () => {
  test.each(['rtsp://cam.local:554/stream', 'rtsps://cam.local/s', 'http://10.0.0.2/mjpeg', 'https://example.com/cam.m3u8'])('accepts %s unchanged', (url) =>
    expect(validateInput({ kind: 'url', url })).toEqual({ kind: 'url', url }),
  );

  test.each([
    ['-i /etc/passwd', /input\.url .*starts with "-".*option/],
    ['file:///etc/passwd', /input\.url scheme "file:" is not allowed: expected rtsp, rtsps, http or https/],
    ['ftp://cam.local/video', /input\.url scheme "ftp:" is not allowed/],
    ['concat:/a|/b', /input\.url scheme "concat:" is not allowed/],
    ['not a url', /input\.url .*whitespace/],
    ['cam.local/stream', /input\.url "cam\.local\/stream" is not a valid URL/],
    ['http://', /input\.url "http:\/\/" is not a valid URL/],
    ['rtsp:/stream', /input\.url .*has no host/],
    ['rtsp://cam/\nstream', /control characters/],
  ])('refuses %j', (url, message) => {
    expect(() => validateInput({ kind: 'url', url })).toThrow(message);
  });

  test('an error about a refused url never shows its password', () => {
    expect(() => validateInput({ kind: 'url', url: '-rtsp://admin:hunter2@cam' })).toThrow(/\*\*\*/);
    expect(() => validateInput({ kind: 'url', url: '-rtsp://admin:hunter2@cam' })).not.toThrow(/hunter2/);
  });

  test('refuses unknown fields and wrong kinds, naming them', () => {
    expect(() => validateInput({ kind: 'url', url: 'rtsp://cam/s', args: ['-y'] })).toThrow(/input\.args is not a field of a url input/);
    expect(() => validateInput({ kind: 'shell', cmd: 'ls' })).toThrow(/input\.kind "shell" is invalid/);
    expect(() => validateInput('rtsp://cam/s')).toThrow(/input must be an object/);
  });
});

describe('validateInput: files', () => {
  test('accepts a file inside the media folder, relative or absolute, returning its real path', () => {
    const door = path.join(mediaDir, 'clips', 'door.mp4');
    expect(validateInput({ kind: 'file', path: 'clips/door.mp4', loop: true }, { mediaDir })).toEqual({ kind: 'file', path: door, loop: true });
    expect(validateInput({ kind: 'file', path: door }, { mediaDir })).toEqual({ kind: 'file', path: door });
    expect(validateInput({ kind: 'file', path: 'alias.mp4' }, { mediaDir })).toEqual({ kind: 'file', path: door });
  });

  test.each([
    ['-i /etc/passwd', /input\.path "-i \/etc\/passwd" starts with "-"/],
    ['/etc/passwd', /input\.path "\/etc\/passwd" escapes the media folder/],
    ['file:///etc/passwd', /input\.path "file:\/\/\/etc\/passwd" looks like a URL/],
    ['../secret.txt', /input\.path "\.\.\/secret\.txt" escapes the media folder/],
    ['clips/../../secret.txt', /escapes the media folder/],
    ['passwd-link', /input\.path "passwd-link" is a link that leads outside the media folder/],
    ['clips/sneaky.mp4', /is a link that leads outside the media folder/],
    ['clips/missing.mp4', /input\.path "clips\/missing\.mp4" does not exist in the media folder/],
    ['clips', /input\.path "clips" is not a regular file/],
  ])('refuses %j', (file, message) => {
    expect(() => validateInput({ kind: 'file', path: file }, { mediaDir })).toThrow(message);
  });

  test('refuses every file when no media folder is configured', () => {
    expect(() => validateInput({ kind: 'file', path: path.join(mediaDir, 'clips', 'door.mp4') })).toThrow(/no media folder \(mediaDir\) is configured/);
  });

  test('refuses a loop that is not a boolean', () => {
    expect(() => validateInput({ kind: 'file', path: 'clips/door.mp4', loop: 'yes' }, { mediaDir })).toThrow(/input\.loop "yes" is invalid/);
  });
});

describe('validateInput: demo', () => {
  test('accepts a sane size and rate and refuses others, naming the field', () => {
    expect(validateInput({ kind: 'demo', width: 320, height: 240, fps: 5 })).toEqual({ kind: 'demo', width: 320, height: 240, fps: 5 });
    expect(() => validateInput({ kind: 'demo', width: 320.5, height: 240, fps: 5 })).toThrow(/input\.width 320\.5 is invalid: expected a whole number/);
    expect(() => validateInput({ kind: 'demo', width: 320, height: 240, fps: 0 })).toThrow(/input\.fps 0 is invalid/);
    expect(() => validateInput({ kind: 'demo', width: 320, fps: 5 })).toThrow(/input\.height missing is invalid/);
  });
});

describe('redactUrl', () => {
  test.each([
    ['rtsp://admin:hunter2@cam.local:554/stream', 'rtsp://***:***@cam.local:554/stream'],
    ['rtsp://admin@cam.local/stream', 'rtsp://***@cam.local/stream'],
    ['http://u:p%40ss@h/x?token=abc&channel=1&api_key=k&Password=z', 'http://***:***@h/x?token=***&channel=1&api_key=***&Password=***'],
    ['https://h/snap.jpg?auth=xyz#frag', 'https://h/snap.jpg?auth=***#frag'],
    ['rtsp://cam.local/stream?channel=1', 'rtsp://cam.local/stream?channel=1'],
    ['not a url user:pw@', 'not a url user:pw@'],
    ['rtsp://a:b@c@cam/s', 'rtsp://***:***@cam/s'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  test('redactText masks the url and its secrets wherever ffmpeg repeats them', () => {
    const url = 'rtsp://admin:p%40ss@cam.local/s?token=t0k3n';
    const line = `[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized for ${url} (password p@ss, token t0k3n)`;
    const redacted = redactText(line, url);
    expect(redacted).toContain('rtsp://***:***@cam.local/s?token=***');
    expect(redacted).not.toMatch(/p%40ss|p@ss|t0k3n/);
  });
});

describe('buildFfmpegArgs', () => {
  const output = { fps: 5, width: 640, height: 360, jpegQuality: 5 };

  test('puts the url in its own argument right after -i, with the options of its scheme', () => {
    const url = 'rtsp://cam.local/s';
    const args = buildFfmpegArgs({ kind: 'url', url }, output);
    expect(args[args.indexOf('-i') + 1]).toBe(url);
    expect(args.join(' ')).toContain('-rtsp_transport tcp -timeout 10000000 -i');
    expect(args.slice(-10)).toEqual(['-an', '-vf', 'fps=5,scale=640:360', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1']);
    expect(buildFfmpegArgs({ kind: 'url', url: 'https://h/x' }, output).join(' ')).toContain(
      '-reconnect 1 -reconnect_streamed 1 -reconnect_delay_max 5 -rw_timeout 10000000 -i https://h/x',
    );
  });

  test('loops a file only when asked, and names it with the file protocol', () => {
    const looped = buildFfmpegArgs({ kind: 'file', path: '/media/a.mp4', loop: true }, { fps: 1, jpegQuality: 2 });
    expect(looped.join(' ')).toContain('-re -stream_loop -1 -i file:/media/a.mp4 -an -vf fps=1 -f');
    expect(buildFfmpegArgs({ kind: 'file', path: '/media/a.mp4' }, { fps: 1, jpegQuality: 2 })).not.toContain('-stream_loop');
  });

  test('refuses an output ffmpeg cannot honour, naming the field', () => {
    expect(() => buildFfmpegArgs({ kind: 'demo', width: 64, height: 48, fps: 1 }, { fps: 1, jpegQuality: 1 })).toThrow(/output\.jpegQuality 1/);
    expect(() => buildFfmpegArgs({ kind: 'demo', width: 64, height: 48, fps: 1 }, { fps: 0, jpegQuality: 5 })).toThrow(/output\.fps 0/);
  });
});
