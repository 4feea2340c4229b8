import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
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
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 16 }) platform!: Platform;
  @Column({ name: 'external_id', type: 'varchar', length: 255 }) externalId!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'jsonb', default: () => "'[]'" }) admins!: TenantAdmin[];
  @Column({ type: 'jsonb', default: () => "'{}'" }) bot!: TenantBotSettings;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
