import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentUser, ScopeGuard } from '../auth/auth.guard';
import { ADMIN_SCOPE, type Principal } from '../auth/jwt-verifier';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { BreakerActions } from './breaker-actions.use-case';
import {
  breakerActionResultSchema,
  breakerParamsSchema,
  breakersViewSchema,
  forceBreakerBodySchema,
  resetBreakerBodySchema,
  type BreakerActionResult,
  type BreakersView,
} from './breakers.schemas';

const ACTION_ANSWER = {
  status: 200,
  description:
    'The action, the override now in force, and the live replicas that reported it applied (`applied`) ' +
    'or had not within 2 s (`pending`).',
  schema: openApiSchema(breakerActionResultSchema, 'output'),
};
const NAME_PARAM = { name: 'name', description: 'The breaker, e.g. kafka-producer.' };

/**
 * Circuit breakers across the fleet (issue 19): every replica's breakers in one view, and an
 * operator's force open / force close / reset, applied by every replica of every app with Redis
 * (their `BreakerControl`) and audited.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/breakers')
@UseGuards(AuthGuard, new ScopeGuard(ADMIN_SCOPE))
export class BreakersController {
  constructor(@Inject(BreakerActions) private readonly actions: BreakerActions) {}

  @Get()
  @ApiOperation({
    summary: "Every live replica's breakers, per breaker name",
    description:
      'Per breaker: the desired override, replicas per state, and each replica (app, hostname:pid) with its ' +
      'state, the override it applies, its rolling-window counts and when it last reported (each second). ' +
      `A replica gone for 3 s is gone from the view. Requires the "${ADMIN_SCOPE}" scope.`,
  })
  @ApiResponse({
    status: 200,
    description: 'The breakers.',
    schema: openApiSchema(breakersViewSchema, 'output'),
  })
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, `FORBIDDEN: the token lacks the "${ADMIN_SCOPE}" scope.`))
  list(): Promise<BreakersView> {
    return this.actions.list();
  }

  @Post(':name/open')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Force a breaker open on every replica',
    description:
      'Every call through the breaker fails fast (no half-open probe) on every replica, including ones that ' +
      `start later, until a reset or a force close. Audited as breaker.open. Requires the "${ADMIN_SCOPE}" scope.`,
  })
  @ApiParam(NAME_PARAM)
  @ApiBody({ schema: openApiSchema(forceBreakerBodySchema) })
  @ApiResponse(ACTION_ANSWER)
  @ApiResponse(
    errorResponse(400, 'VALIDATION_FAILED: reason missing, empty or over 500 characters; a bad name.'),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, `FORBIDDEN: the token lacks the "${ADMIN_SCOPE}" scope.`))
  @ApiResponse(errorResponse(404, 'NOT_FOUND: no live replica reports a breaker of that name.'))
  open(@CurrentUser() user: Principal, @Param() params: unknown, @Body() body: unknown) {
    return this.force('open', user, params, body);
  }

  @Post(':name/close')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Force a breaker closed on every replica',
    description:
      'Every call goes through to the dependency and no failure rate opens the breaker, on every replica, until ' +
      `a reset or a force open. Audited as breaker.close. Requires the "${ADMIN_SCOPE}" scope.`,
  })
  @ApiParam(NAME_PARAM)
  @ApiBody({ schema: openApiSchema(forceBreakerBodySchema) })
  @ApiResponse(ACTION_ANSWER)
  @ApiResponse(
    errorResponse(400, 'VALIDATION_FAILED: reason missing, empty or over 500 characters; a bad name.'),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, `FORBIDDEN: the token lacks the "${ADMIN_SCOPE}" scope.`))
  @ApiResponse(errorResponse(404, 'NOT_FOUND: no live replica reports a breaker of that name.'))
  close(@CurrentUser() user: Principal, @Param() params: unknown, @Body() body: unknown) {
    return this.force('close', user, params, body);
  }

  @Post(':name/reset')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reset a breaker on every replica',
    description:
      'Drops the override and closes the breaker on every replica — also where its failure rate opened it — ' +
      'so it judges by itself again. The body (`{ "reason" }`) may be left out. Audited as breaker.reset. ' +
      `Requires the "${ADMIN_SCOPE}" scope.`,
  })
  @ApiParam(NAME_PARAM)
  @ApiBody({ schema: openApiSchema(resetBreakerBodySchema), required: false })
  @ApiResponse(ACTION_ANSWER)
  @ApiResponse(errorResponse(400, 'VALIDATION_FAILED: reason empty or over 500 characters; a bad name.'))
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(403, `FORBIDDEN: the token lacks the "${ADMIN_SCOPE}" scope.`))
  @ApiResponse(
    errorResponse(404, 'NOT_FOUND: no live replica reports a breaker of that name, nor an override.'),
  )
  reset(
    @CurrentUser() user: Principal,
    @Param() params: unknown,
    @Body() body: unknown,
  ): Promise<BreakerActionResult> {
    const { name } = parseInput(breakerParamsSchema, params, 'params');
    const { reason } = parseInput(resetBreakerBodySchema, body ?? {}, 'body');
    return this.actions.reset(name, { actor: user.userId, reason });
  }

  private force(action: 'open' | 'close', user: Principal, params: unknown, body: unknown) {
    const { name } = parseInput(breakerParamsSchema, params, 'params');
    const { reason } = parseInput(forceBreakerBodySchema, body, 'body');
    return this.actions.force(name, action, { actor: user.userId, reason });
  }
}
