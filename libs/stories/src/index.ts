export { localScores, type LocalScores } from './local-scores';
export {
  StoryStore,
  type EnhancementStatus,
  type Enhancement,
  type NewStory,
  type Story,
} from './story-store';
export { CreateStories1764700000000 } from './migrations/1764700000000-CreateStories';
import { CreateStories1764700000000 } from './migrations/1764700000000-CreateStories';

/** The stories table; the api's migrations include it (`generation` updates the same table). */
export const STORY_MIGRATIONS = [CreateStories1764700000000] as const;
