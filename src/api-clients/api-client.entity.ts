import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from '../common/auth';

@Entity('api_clients')
export class ApiClientEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'varchar', length: 16 }) role!: Role;
  /** Null means every tenant (`["*"]` in the API). */
  @Column({ name: 'tenant_ids', type: 'uuid', array: true, nullable: true }) tenantIds!: string[] | null;
  /** SHA-256 of the whole key. Keys are 256-bit random, so a fast hash is the right one. */
  @Column({ name: 'key_hash', type: 'bytea' }) keyHash!: Buffer;
  @Column({ type: 'boolean', default: false }) bootstrap!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}
