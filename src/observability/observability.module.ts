import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsService } from './metrics.service';
import { ObservabilityController } from './observability.controller';
import { ReadinessService } from './readiness.service';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [ObservabilityController],
  providers: [MetricsService, ReadinessService],
  exports: [MetricsService, ReadinessService],
})
export class ObservabilityModule {}
