export * from './builtin';
export { type CompactObject, type CompactResource, decodeObjects, encodeObjects } from './compact';
