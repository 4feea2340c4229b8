import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Platform } from '../config/app-config';

export interface TenantAdmin {
  userExternalId: string;
  email?: string;
  displayName?: string;
}

/** Non-secret bot settings; secrets (a Slack bot token) live sealed in `botSecret`. */
export interface TenantBotSettings {
  serviceUrl?: string;
  accountId?: string;
}

@Entity('tenants')
export class TenantEntity {
  /** Assigned by the service before insert: the vault binds the bot secret to it. */
  @PrimaryColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 32 }) platform!: Platform;
  @Column({ name: 'external_id', type: 'varchar', length: 255 }) externalId!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'jsonb', default: () => "'[]'" }) admins!: TenantAdmin[];
  @Column({ type: 'jsonb', default: () => "'{}'" }) bot!: TenantBotSettings;
  /** The Slack bot token, sealed by the vault (binding `tenant:<id>` / `bot_token`). */
  @Column({ name: 'bot_secret', type: 'bytea', nullable: true }) botSecret!: Buffer | null;
  @Column({ name: 'vault_key_id', type: 'varchar', length: 32, nullable: true }) vaultKeyId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
