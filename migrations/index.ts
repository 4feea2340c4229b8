import { Init1764000000000 } from './1764000000000-init';
import { Vault1764000000001 } from './1764000000001-vault';
import { Connections1764000000002 } from './1764000000002-connections';
import { Heal1764000000003 } from './1764000000003-heal';
import { ApiClientScope1764000000010 } from './1764000000010-api-client-scope';
import { OAuthBrowserBinding1764000000011 } from './1764000000011-oauth-browser-binding';
import { Events1764000000012 } from './1764000000012-events';
import { WebhookEndpoints1764000000013 } from './1764000000013-webhook-endpoints';
import { WebhookDeliveries1764000000014 } from './1764000000014-webhook-deliveries';
import { EventsXidCursor1764000000016 } from './1764000000016-events-xid-cursor';
import { ConnectionDegraded1764000000017 } from './1764000000017-connection-degraded';
import { PlatformClients1764000000018 } from './1764000000018-platform-clients';
import { GenericPlatforms1764000000020 } from './1764000000020-generic-platforms';
import { Board1764000000021 } from './1764000000021-board';
import { HotLeaseUpdates1764000000019 } from './1764000000019-hot-lease-updates';

/** Every migration, in order. Landed migrations are never edited; add new ones. */
export const MIGRATIONS = [
  Init1764000000000,
  Vault1764000000001,
  Connections1764000000002,
  Heal1764000000003,
  ApiClientScope1764000000010,
  OAuthBrowserBinding1764000000011,
  Events1764000000012,
  WebhookEndpoints1764000000013,
  WebhookDeliveries1764000000014,
  EventsXidCursor1764000000016,
  ConnectionDegraded1764000000017,
  PlatformClients1764000000018,
  HotLeaseUpdates1764000000019,
  GenericPlatforms1764000000020,
  Board1764000000021,
];
