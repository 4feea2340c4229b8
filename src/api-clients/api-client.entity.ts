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
  /** Each a `URL.origin`: where this key's connect links may send the person afterwards. */
  @Column({ name: 'return_origins', type: 'text', array: true, default: () => "'{}'" }) returnOrigins!: string[];
  /** Kept coarse (about a minute) so the token-read path never waits on a write. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt!: Date | null;
}
