import { Body, Controller, Get, HttpCode, Inject, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { PoolStore } from '@fleet/pools';
import { type FastifyReply } from 'fastify';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser, ScopeGuard } from '../auth/auth.guard';
import { OPERATOR_SCOPE, type Principal } from '../auth/jwt-verifier';
import { ApiError } from '../http/api.errors';
import { parseInput } from '../http/input';
import { checkProjectRef } from '../exports/project-ref';
import { errorResponse, openApiSchema } from '../http/openapi';
import {
  campaignsSchema,
  campaignViewSchema,
  createCampaignSchema,
  toCampaignView,
  type CampaignView,
} from '../pools/pools.schemas';

/**
 * Campaigns (the seed's `campaign_seed`): each active one has its own pool of points of interest,
 * which the pool-filler's check keeps at its minimum, and NPCs are placed in one when claimed.
 */
@ApiTags('pools')
@ApiBearerAuth()
@Controller('v1/campaigns')
@UseGuards(AuthGuard)
export class CampaignsController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(PoolStore) private readonly store: PoolStore,
  ) {}

  @Post()
  @UseGuards(new ScopeGuard(OPERATOR_SCOPE))
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a campaign (operators)',
    description:
      `Requires the "${OPERATOR_SCOPE}" scope. Idempotent by campaignSeed: the same seed and name again answers ` +
      '200 with the campaign; the same seed with another name is a 409. Its POI pool fills at the next check ' +
      '(or POST /v1/pool-jobs check_all_pools).',
  })
  @ApiBody({ schema: openApiSchema(createCampaignSchema) })
  @ApiResponse({ status: 201, description: 'Created.', schema: openApiSchema(campaignViewSchema, 'output') })
  @ApiResponse({
    status: 200,
    description: 'It existed already.',
    schema: openApiSchema(campaignViewSchema, 'output'),
  })
  @ApiResponse(
    errorResponse(400, 'VALIDATION_FAILED (campaignSeed not 1–64 of A-Z a-z 0-9 _ -; name empty).'),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, `FORBIDDEN: the token lacks the "${OPERATOR_SCOPE}" scope.`))
  @ApiResponse(errorResponse(409, 'CONFLICT: the seed names another campaign.'))
  async create(
    @CurrentUser() user: Principal,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CampaignView> {
    const input = parseInput(createCampaignSchema, body, 'body');
    const sql = sqlOf(this.dataSource.manager);
    if (input.projectId !== undefined) await checkProjectRef(sql, input.projectId, 'body.projectId');
    const { campaign, created } = await this.store.createCampaign(sql, {
      ...input,
      createdBy: user.userId,
    });
    if (!created && campaign.name !== input.name) {
      throw new ApiError(
        409,
        'CONFLICT',
        `campaign ${campaign.campaignSeed} exists with another name (${JSON.stringify(campaign.name)})`,
        { campaignSeed: campaign.campaignSeed, name: campaign.name },
      );
    }
    if (!created) void reply.status(200);
    return toCampaignView(campaign);
  }

  @Get()
  @ApiOperation({ summary: 'The active campaigns' })
  @ApiResponse({ status: 200, description: 'Campaigns.', schema: openApiSchema(campaignsSchema, 'output') })
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  async list(): Promise<{ campaigns: CampaignView[] }> {
    const campaigns = await this.store.activeCampaigns(sqlOf(this.dataSource.manager));
    return { campaigns: campaigns.map(toCampaignView) };
  }
}
