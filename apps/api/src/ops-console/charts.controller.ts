import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { AuthGuard, ScopeGuard } from '../auth/auth.guard';
import { ADMIN_SCOPE } from '../auth/jwt-verifier';
import { type Config } from '../config';
import { ApiError, notFound } from '../http/api.errors';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { CHART_RANGE_NAMES, CHARTS, chartNamed, type ChartRange } from './charts';
import { readChart } from './read-chart';
import {
  chartListSchema,
  chartRangeQuerySchema,
  chartViewSchema,
  type ChartList,
  type ChartView,
} from './ops-console.schemas';
import { PROMETHEUS } from './ops-console.tokens';
import { PrometheusError, type PrometheusClient } from './prometheus';

const info = ({ name, title, unit, description }: (typeof CHARTS)[number]) => ({
  name,
  title,
  unit,
  description,
});

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/charts')
@UseGuards(AuthGuard, new ScopeGuard(ADMIN_SCOPE))
export class ChartsController {
  constructor(
    @Inject(PROMETHEUS) private readonly prometheus: PrometheusClient | null,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The charts the ops console draws',
    description: 'Names, titles and units of the fixed set of charts, and the ranges they can be drawn over.',
  })
  @ApiResponse({ status: 200, description: 'Charts.', schema: openApiSchema(chartListSchema, 'output') })
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'The token lacks the fleet:admin scope.'))
  list(): ChartList {
    return {
      charts: CHARTS.map(info),
      ranges: CHART_RANGE_NAMES,
      prometheus: this.prometheus !== null,
      namespace: this.config.KAFKA_TOPIC_NAMESPACE ?? null,
    };
  }

  @Get(':name')
  @ApiOperation({
    summary: 'One chart over a time range',
    description:
      "A named chart's PromQL run as a range query on the Prometheus at PROMETHEUS_URL (only the " +
      'fixed set of `GET /v1/admin/charts`; never a query from the request), its series aligned on ' +
      'one time axis. Without PROMETHEUS_URL, or when Prometheus does not answer, 503.',
  })
  @ApiParam({ name: 'name', description: `One of ${CHARTS.map((c) => c.name).join(', ')}.` })
  @ApiQuery({ name: 'range', required: false, enum: CHART_RANGE_NAMES, description: 'Default 1h.' })
  @ApiResponse({ status: 200, description: 'The chart.', schema: openApiSchema(chartViewSchema, 'output') })
  @ApiResponse(errorResponse(400, 'Unknown range (VALIDATION_FAILED).'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, 'The token lacks the fleet:admin scope.'))
  @ApiResponse(errorResponse(404, 'No chart of that name.'))
  @ApiResponse(errorResponse(503, 'PROMETHEUS_URL unset, or Prometheus unreachable or refusing the query.'))
  async chart(@Param('name') name: string, @Query() query: unknown): Promise<ChartView> {
    const { range } = parseInput(chartRangeQuerySchema, query, 'query');
    const chart = chartNamed(name);
    if (!chart) {
      throw notFound(`no chart named "${name}"; the charts are ${CHARTS.map((c) => c.name).join(', ')}`);
    }
    if (!this.prometheus) {
      throw new ApiError(
        503,
        'SERVICE_UNAVAILABLE',
        'charts need a Prometheus: set PROMETHEUS_URL on the api to the Prometheus that scrapes the fleet',
        { reason: 'PROMETHEUS_URL_UNSET' },
      );
    }
    try {
      const read = await readChart(this.prometheus, chart, range as ChartRange, {
        namespace: this.config.KAFKA_TOPIC_NAMESPACE,
        nowS: Math.floor(Date.now() / 1000),
      });
      return { ...info(chart), ...read };
    } catch (error) {
      if (!(error instanceof PrometheusError)) throw error;
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', error.message, { reason: error.code });
    }
  }
}
