import { ApiClientEntity } from '../api-clients/api-client.entity';
import { TenantEntity } from '../tenants/tenant.entity';

/** Every TypeORM entity; features append theirs here. */
export const ENTITIES = [ApiClientEntity, TenantEntity];
