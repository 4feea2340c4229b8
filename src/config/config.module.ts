import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

/**
 * Makes the one validated `AppConfig` injectable everywhere. The config is built before
 * Nest starts (main.ts needs it to start the database) and passed in, so two app
 * instances in one process (tests) can run with different settings.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] };
  }
}
