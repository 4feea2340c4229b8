import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BotSenders } from './bot-registry';
import { MicrosoftOAuth } from './microsoft/microsoft-oauth';
import { TeamsBotSender } from './microsoft/teams-bot';
import { OAuthProviders } from './oauth-registry';
import { SlackBotSender } from './slack/slack-bot';
import { SlackOAuth } from './slack/slack-oauth';
import { WebexBotSender } from './webex/webex-bot';
import { WebexOAuth } from './webex/webex-oauth';
import { ZoomBotSender } from './zoom/zoom-bot';
import { ZoomOAuth } from './zoom/zoom-oauth';

/** The registries: one OAuth adapter and one bot sender per platform. */
@Global()
@Module({
  providers: [
    {
      provide: OAuthProviders,
      useFactory: (c: AppConfig) => new OAuthProviders([new MicrosoftOAuth(c), new SlackOAuth(c), new WebexOAuth(c), new ZoomOAuth(c)]),
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
