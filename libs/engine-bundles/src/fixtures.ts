import { type BundleInput, type MapDocument } from './input';

/**
 * Inputs shared by the unit and integration tests: a small map with a campaign, and a map whose
 * names need sanitizing and escaping in every format.
 */

export const TRICKY_NAME = 'A "quoted" \\ name: with/slash.';

export function sampleMap(): MapDocument {
  return {
    version: 1,
    jobId: 'job-1',
    source: { filename: 'lore/The Shattered Coast.md', sections: 3 },
    width: 1000,
    height: 800,
    regions: [
      { name: 'Northreach', description: 'Cold hills.\nWind all year.', x: 0, y: 0, width: 400, height: 300 },
      { name: 'Saltmarsh', description: 'Wet "lowlands".', x: 400, y: 300, width: 300, height: 250 },
    ],
    places: [
      { name: 'Frostford', region: 'Northreach', kind: 'town', x: 120, y: 80 },
      { name: 'Old Keep', region: 'Northreach', kind: 'ruin', x: 300, y: 200 },
      { name: 'Brinehaven', region: 'Saltmarsh', kind: 'port', x: 550.5, y: 420.25 },
    ],
    routes: [
      { from: 'Frostford', to: 'Old Keep', kind: 'road', x1: 120, y1: 80, x2: 300, y2: 200 },
      { from: 'Old Keep', to: 'Brinehaven', kind: 'river path', x1: 300, y1: 200, x2: 550.5, y2: 420.25 },
    ],
  };
}

export function sampleInput(): BundleInput {
  return {
    map: sampleMap(),
    title: 'The Shattered Coast',
    assets: [
      { path: 'map.png', kind: 'texture', size: 1234 },
      { path: 'uploads/notes.pdf', kind: 'file', size: 99 },
    ],
    campaign: {
      pois: [
        {
          id: 'poi-1',
          name: 'Whispering Well',
          kind: 'landmark',
          description: 'It hums.',
          position: { x: 10, y: 20 },
        },
      ],
      npcs: [
        {
          id: 'npc-1',
          name: 'Mara Vell',
          role: 'innkeeper',
          personality: 'Warm, nosy.',
          traits: ['curious', 'loyal'],
          speech_style: 'Quick, with "dear".',
          backstory: 'Ran away to sea.\nCame back.',
        },
      ],
      quests: [
        {
          id: 'quest-1',
          title: 'Wolves at the Ford',
          description: 'Clear the ford.',
          objectives: [{ type: 'kill', target: 'Wolf', count: 3 }],
          level: 2,
          xp_reward: 100,
          gold_reward: 20,
        },
      ],
      encounters: [
        {
          id: 'enc-1',
          name: 'Ambush, at dusk',
          location_type: 'forest',
          challenge_rating: 1.5,
          enemies: [{ name: 'Bandit', count: 4, challenge_rating: 0.125 }],
          description: 'Arrows from the trees.',
        },
      ],
      dungeons: [
        {
          id: 'dun-1',
          name: 'Drowned Crypt',
          description: 'Half under water.',
          recommended_level: 3,
          rooms: [
            { name: 'Gate', description: 'Rusty.' },
            { name: 'Hall', description: 'Flooded.' },
          ],
          encounters: [{ room: 'Hall', description: 'Drowned dead rise.' }],
          loot: [{ name: 'Pearl', rarity: 'rare' }],
        },
      ],
    },
  };
}

/** Names Godot refuses (`.` `:` `@` `/` `"` `%`), duplicates after sanitizing, and escapes. */
export function trickyMap(): MapDocument {
  return {
    version: 1,
    jobId: 'job-2',
    source: { filename: 'weird.txt', sections: 1 },
    width: 500,
    height: 500,
    regions: [
      {
        name: TRICKY_NAME,
        description: 'Line one\nline "two" \\ three\ttab',
        x: 0,
        y: 0,
        width: 200,
        height: 200,
      },
      {
        name: 'A "quoted" \\ name_ with_slash_',
        description: 'Same name once sanitized.\u0007\u0085\u2028end',
        x: 200,
        y: 0,
        width: 100,
        height: 100,
      },
      { name: '@100%', description: 'Café — “quoted” 東京 😀', x: 0, y: 200, width: 100, height: 100 },
    ],
    places: [
      { name: 'St. Mary: the @one/only', region: TRICKY_NAME, kind: 'town', x: 50, y: 50 },
      { name: 'St. Mary: the @one/only', region: TRICKY_NAME, kind: 'town', x: 60, y: 60 },
      { name: 'Ünïcødé ☃', region: '@100%', kind: 'hamlet', x: 20, y: 220 },
      { name: '...', region: 'A "quoted" \\ name_ with_slash_', kind: 'camp', x: 250, y: 50 },
    ],
    routes: [
      { from: 'St. Mary: the @one/only', to: 'Ünïcødé ☃', kind: 'road', x1: 50, y1: 50, x2: 20, y2: 220 },
    ],
  };
}
