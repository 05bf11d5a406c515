import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ADMIN_SCOPE } from '../auth/jwt-verifier';
import { errorResponse } from '../http/openapi';

/** The OpenAPI answers every admin route shares: no token, and a token without the admin scope. */
export const AdminErrorResponses = () =>
  applyDecorators(
    ApiResponse(errorResponse(401, 'Missing or invalid bearer token.')),
    ApiResponse(errorResponse(403, `The token lacks the "${ADMIN_SCOPE}" scope.`)),
  );
