import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { sqlOf, type DataSource } from '@fleet/db';
import { AuditLog } from '@fleet/ops';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, ScopeGuard } from '../auth/auth.guard';
import { ADMIN_SCOPE } from '../auth/jwt-verifier';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { AdminErrorResponses } from './admin-responses';
import { auditPageSchema, auditQuerySchema } from './ops.schemas';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/audit')
@UseGuards(AuthGuard, new ScopeGuard(ADMIN_SCOPE))
export class AuditController {
  private readonly audit: AuditLog;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.audit = new AuditLog(sqlOf(dataSource.manager));
  }

  @Get()
  @ApiOperation({
    summary: "Operators' actions, newest first",
    description: 'Redrives (dry runs too), discards, breaker overrides.',
  })
  @ApiResponse({
    status: 200,
    description: 'Audit entries.',
    schema: openApiSchema(auditPageSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'A bad limit or action (VALIDATION_FAILED).'))
  @AdminErrorResponses()
  async list(@Query() query: unknown) {
    const { limit, action } = parseInput(auditQuerySchema, query, 'query');
    return { items: await this.audit.latest({ limit, ...(action ? { action } : {}) }) };
  }
}
