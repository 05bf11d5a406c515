import { Module } from '@nestjs/common';
import { ApplyStatus } from './apply-status.use-case';
import { StatusConsumer } from './status-consumer.service';

/** Consumes delivery statuses (`api-status` group) and applies them to messages. */
@Module({ providers: [ApplyStatus, StatusConsumer] })
export class ApplyStatusModule {}
