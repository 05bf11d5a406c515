import { applyDecorators, Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type z } from 'zod';
import { AuthGuard } from '../auth/auth.guard';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import {
  claimDungeonSchema,
  claimedItemSchema,
  claimEncounterSchema,
  claimNpcSchema,
  claimPoiSchema,
  claimQuestSchema,
  type ClaimedItem,
} from '../pools/pools.schemas';
import { ClaimPoolItem } from './claim-pool-item.use-case';

/** The body and answers every claim route documents. */
const claimDocs = (schema: z.ZodType, invalid: string) =>
  applyDecorators(
    ApiBody({ schema: openApiSchema(schema) }),
    ApiResponse({ status: 200, description: 'Claimed.', schema: openApiSchema(claimedItemSchema, 'output') }),
    ApiResponse(
      errorResponse(400, `VALIDATION_FAILED (${invalid}; unknown fields), INVALID_JSON, EMPTY_BODY.`),
    ),
    ApiResponse(errorResponse(401, 'Missing or invalid bearer token.')),
    ApiResponse(
      errorResponse(
        404,
        'POOL_EMPTY: nothing that fits is available; details name the pool and the refill job enqueued.',
      ),
    ),
  );

/**
 * Game servers claim pre-generated content for their players (seed 001). Any authenticated caller
 * may claim; the item is recorded as claimed by the character named in the body.
 */
@ApiTags('pools')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(AuthGuard)
export class ClaimPoolItemController {
  constructor(@Inject(ClaimPoolItem) private readonly claims: ClaimPoolItem) {}

  @Post('quests/claim')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Claim a quest for a character',
    description: 'The oldest available quest of a level within [minLevel, maxLevel] (default 1–20).',
  })
  @claimDocs(claimQuestSchema, 'characterId missing; levels outside 1–20 or inverted; location malformed')
  quest(@Body() body: unknown): Promise<ClaimedItem> {
    return this.claims.quest(parseInput(claimQuestSchema, body, 'body'));
  }

  @Post('npcs/claim')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Claim an NPC personality for a campaign',
    description: 'Places the NPC in the campaign (and at `location`); it is then used for role-play.',
  })
  @claimDocs(claimNpcSchema, 'campaignSeed missing or unknown; location malformed')
  npc(@Body() body: unknown): Promise<ClaimedItem> {
    return this.claims.npc(parseInput(claimNpcSchema, body, 'body'));
  }

  @Post('encounters/claim')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Claim a combat encounter',
    description:
      'An encounter of `locationType` whose challenge rating is within 0.5×–1.5× `playerLevel` (the seed’s rule).',
  })
  @claimDocs(
    claimEncounterSchema,
    'unknown locationType; playerLevel outside 1–20; characterId missing; unknown campaignSeed',
  )
  encounter(@Body() body: unknown): Promise<ClaimedItem> {
    return this.claims.encounter(parseInput(claimEncounterSchema, body, 'body'));
  }

  @Post('dungeons/claim')
  @HttpCode(200)
  @ApiOperation({ summary: 'Claim a dungeon (rooms, encounters, loot)' })
  @claimDocs(claimDungeonSchema, 'characterId missing; unknown campaignSeed; location malformed')
  dungeon(@Body() body: unknown): Promise<ClaimedItem> {
    return this.claims.dungeon(parseInput(claimDungeonSchema, body, 'body'));
  }

  @Post('pois/claim')
  @HttpCode(200)
  @ApiOperation({
    summary: "Claim a point of interest of a campaign's map",
    description: 'POIs are pooled per campaign; the pool-filler keeps every active campaign’s pool full.',
  })
  @claimDocs(claimPoiSchema, 'campaignSeed missing or unknown; characterId missing')
  poi(@Body() body: unknown): Promise<ClaimedItem> {
    return this.claims.poi(parseInput(claimPoiSchema, body, 'body'));
  }
}
