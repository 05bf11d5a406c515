/**
 * The local heuristic scores a story gets at creation (seed 003), before and without the LLM:
 * cheap, deterministic and explainable. Hype rises with hype vocabulary, superlatives and
 * exclamation marks; the ethics score (10 = no concern) falls with concern vocabulary. Both are
 * 0–10 with one decimal.
 */
const HYPE_WORDS = [
  'revolutionary',
  'breakthrough',
  'game-changing',
  'game changer',
  'unprecedented',
  'disrupt',
  'disruptive',
  'world-first',
  'miracle',
  'incredible',
  'amazing',
  'groundbreaking',
  'transformative',
  'best ever',
  'never before',
];
const CONCERN_WORDS = [
  'privacy',
  'surveillance',
  'bias',
  'biased',
  'discrimination',
  'consent',
  'leak',
  'breach',
  'harm',
  'misinformation',
  'deepfake',
  'tracking',
  'exploit',
  'manipulation',
  'unsafe',
  'concern',
];

export interface LocalScores {
  hypeScore: number;
  ethicsScore: number;
}

const round1 = (n: number) => Math.round(Math.min(10, Math.max(0, n)) * 10) / 10;

function occurrences(text: string, words: readonly string[]): number {
  return words.reduce((count, word) => count + (text.split(word).length - 1), 0);
}

export function localScores(story: {
  title: string;
  content: string;
  impactTags?: readonly string[];
}): LocalScores {
  const text = `${story.title}\n${story.content}\n${(story.impactTags ?? []).join(' ')}`.toLowerCase();
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const hypeHits = occurrences(text, HYPE_WORDS) + (text.split('!').length - 1) * 0.5;
  const concernHits = occurrences(text, CONCERN_WORDS);
  // Per 100 words, so a long story is not hyped by its length alone; a short base so an
  // unremarkable story sits mid-scale.
  const hype = 3 + (hypeHits * 100) / words;
  const ethics = 8 - (concernHits * 100) / words;
  return { hypeScore: round1(hype), ethicsScore: round1(ethics) };
}
