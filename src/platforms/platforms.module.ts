import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BotSenders } from './bot-registry';
import { MicrosoftOAuth } from './microsoft/microsoft-oauth';
import { TeamsBotSender } from './microsoft/teams-bot';
import { OAuth2Provider } from './oauth2-provider';
import { OAuthProviders } from './oauth-registry';
import { SlackBotSender } from './slack/slack-bot';
import { SlackOAuth } from './slack/slack-oauth';
import { WebexBotSender } from './webex/webex-bot';
import { webexOAuth } from './webex/webex-provider';
import { ZoomBotSender } from './zoom/zoom-bot';
import { zoomOAuth } from './zoom/zoom-provider';

/** The registries: one OAuth adapter per platform (the four and PROVIDERS_FILE's), one bot sender per built-in platform. */
@Global()
@Module({
  providers: [
    {
      provide: OAuthProviders,
      useFactory: (c: AppConfig) =>
        new OAuthProviders([
          new MicrosoftOAuth(c),
          new SlackOAuth(c),
          webexOAuth(c),
          zoomOAuth(c),
          ...c.genericProviders.map((g) => new OAuth2Provider(g.description, { displayName: g.displayName })),
        ]),
      inject: [AppConfig],
    },
    {
      provide: BotSenders,
      useFactory: (c: AppConfig) => new BotSenders([new TeamsBotSender(c), new SlackBotSender(c), new WebexBotSender(c), new ZoomBotSender(c)]),
      inject: [AppConfig],
    },
  ],
  exports: [OAuthProviders, BotSenders],
})
export class PlatformsModule {}
