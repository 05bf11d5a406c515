export {
  ObjectStore,
  MIN_PART_SIZE,
  isNoSuchObject,
  ObjectStoreError,
  contentDisposition,
  createObjectStore,
  objectStoreEnv,
  type ObjectInfo,
  type ObjectStoreConfig,
  type ObjectStoreErrorCode,
  type StreamedObject,
} from './object-store';
