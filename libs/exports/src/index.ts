export {
  ExportStore,
  type CampaignRows,
  type ExportRequestRecord,
  type ProjectAsset,
  type ProjectCampaign,
  type PublishedKey,
} from './export-store';
export { CreateExports1765100000000 } from './migrations/1765100000000-CreateExports';
export { EXPORT_MIGRATIONS } from './migrations';
