import { Lwm2mErrors } from '../node/errors';
import type { ContentCodec } from './types';

/** Codecs keyed by CoAP Content-Format number; callers may register their own. */
export class CodecRegistry {
  private readonly codecs = new Map<number, ContentCodec>();
  register(c: ContentCodec): void {
    this.codecs.set(c.format, c);
  }
  get(format: number): ContentCodec | undefined {
    return this.codecs.get(format);
  }
  /** The codec for `format`, or M2M_LWM2M_UNSUPPORTED_FORMAT (CoAP 4.15). */
  require(format: number): ContentCodec {
    const c = this.codecs.get(format);
    if (!c) throw Lwm2mErrors.unsupportedFormat(`content format ${format}`);
    return c;
  }
  formats(): number[] {
    return [...this.codecs.keys()].sort((a, b) => a - b);
  }
}
