import { CborCodec } from './cbor-codec';
import { CodecRegistry } from './codec-registry';
import { LinkFormatCodec } from './link';
import { Lwm2mCborCodec } from './lwm2m-cbor';
import { Lwm2mJsonCodec } from './lwm2m-json';
import { OpaqueCodec } from './opaque';
import { SenmlCborCodec } from './senml-cbor';
import { SenmlJsonCodec } from './senml-json';
import { TextCodec } from './text';
import { TlvCodec } from './tlv';
import { ContentFormat } from './types';

export * from './cbor';
export { CborCodec } from './cbor-codec';
export * from './codec-registry';
export { LinkFormatCodec, splitLinks } from './link';
export { Lwm2mCborCodec } from './lwm2m-cbor';
export { Lwm2mJsonCodec } from './lwm2m-json';
export { OpaqueCodec } from './opaque';
export type { SenmlLimits, SenmlRecord } from './senml';
export { SenmlCborCodec, parseSenmlCbor } from './senml-cbor';
export { SenmlJsonCodec, parseSenmlJson } from './senml-json';
export { TextCodec } from './text';
export { TlvCodec, type TlvEntry, TlvKind, parseTlv } from './tlv';
export * from './types';
export { checkValue, formatText, parseText } from './typing';

/** A registry holding every built-in codec (text, link, opaque, CBOR, SenML JSON/CBOR, TLV, LwM2M JSON/CBOR, legacy 1542/1543). */
export function defaultCodecs(): CodecRegistry {
  const r = new CodecRegistry();
  r.register(new TextCodec());
  r.register(new LinkFormatCodec());
  r.register(new OpaqueCodec());
  r.register(new CborCodec());
  r.register(new SenmlJsonCodec());
  r.register(new SenmlCborCodec());
  r.register(new TlvCodec(ContentFormat.TLV));
  r.register(new TlvCodec(ContentFormat.OLD_TLV));
  r.register(new Lwm2mJsonCodec(ContentFormat.LWM2M_JSON));
  r.register(new Lwm2mJsonCodec(ContentFormat.OLD_JSON));
  r.register(new Lwm2mCborCodec());
  return r;
}
