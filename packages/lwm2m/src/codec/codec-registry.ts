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
  formats(): number[] {
    return [...this.codecs.keys()].sort((a, b) => a - b);
  }
}
