import { Global, Module, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ReadinessService } from '../observability/readiness.service';
import { loadKeyring } from './load-keyring';
import { Vault } from './vault';
import { VaultCensus } from './vault-census';
import { VaultRotation } from './vault-rotation';

@Global()
@Module({
  providers: [{ provide: Vault, useFactory: (config: AppConfig) => Vault.create(loadKeyring(config)), inject: [AppConfig] }, VaultCensus, VaultRotation],
  exports: [Vault, VaultCensus, VaultRotation],
})
export class VaultModule implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly census: VaultCensus,
  ) {}

  onModuleInit(): void {
    this.readiness.register(this.census);
  }
}
