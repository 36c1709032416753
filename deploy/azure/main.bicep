// datavox on Azure: Container Apps (CPU-scaled replicas with session affinity), PostgreSQL flexible server
// (conversations and turns), Azure Cache for Redis (events, rate limits, secrets shared by replicas),
// Azure OpenAI (gpt-realtime + a chat model), Key Vault (every secret; read by a managed identity),
// Log Analytics + Application Insights (logs, and the app's OTLP traces through the managed agent).
//
// No key reaches an app setting: the app's environment holds Key Vault references and plain settings only,
// and Azure OpenAI is called with Microsoft Entra tokens of the user-assigned identity (local auth off).
// Walkthrough: docs/deploy.md.
targetScope = 'resourceGroup'

@description('Short name used in every resource name (letters and digits, 3-11 characters).')
@minLength(3)
@maxLength(11)
param name string = 'datavox'

@description('Region for everything. gpt-realtime is offered in East US 2 and Sweden Central (GlobalStandard).')
@allowed([
  'eastus2'
  'swedencentral'
])
param location string = 'eastus2'

@description('Container image, e.g. <registry>.azurecr.io/datavox:1.0 (built with `az acr build`, docs/deploy.md).')
param containerImage string

@description('Deploy the container app. false on the first run: it creates the registry to build the image into.')
param deployApp bool = true

@description('Bearer token the API and page require (DATAVOX_API_TOKEN). Stored in Key Vault only.')
@secure()
param apiToken string

@description('PostgreSQL administrator password. Stored in Key Vault only.')
@secure()
param postgresAdminPassword string

@description('PostgreSQL administrator login.')
param postgresAdminLogin string = 'datavox'

@description('Fewest and most replicas; the CPU rule adds one above 65% average utilisation.')
@minValue(1)
param minReplicas int = 1
@maxValue(30)
param maxReplicas int = 10

@description('Average CPU utilisation (percent) above which Container Apps adds a replica.')
param cpuScaleThreshold int = 65

@description('vCPU and memory of one replica. The local engine needs 2 vCPU for 4 concurrent voice sessions.')
param cpu string = '2.0'
param memory string = '4Gi'

@description('Azure OpenAI deployments: the realtime model and the chat model that writes SQL.')
param realtimeModel object = {
  name: 'gpt-realtime'
  version: '2025-08-28'
  capacity: 10
}
param chatModel object = {
  name: 'gpt-4.1-mini'
  version: '2025-04-14'
  capacity: 50
}

@description('Which realtime engine the app uses: azure (the cloud, with local fallback) or local.')
@allowed([
  'azure'
  'local'
])
param realtimeEngine string = 'azure'

var suffix = uniqueString(resourceGroup().id, name)
var tags = {
  app: 'datavox'
}
// Built-in role definitions (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roleKeyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var roleOpenAiUser = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
var roleAcrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

// --- identity ---------------------------------------------------------------------------------------------
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-id-${suffix}'
  location: location
  tags: tags
}

// --- logs and traces --------------------------------------------------------------------------------------
resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-ai-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

// --- container registry -----------------------------------------------------------------------------------
resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: '${name}acr${suffix}'
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, roleAcrPull)
  scope: registry
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleAcrPull)
  }
}

// --- Azure OpenAI -----------------------------------------------------------------------------------------
resource openai 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: '${name}-oai-${suffix}'
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: '${name}-oai-${suffix}'
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: true // Entra tokens only: there is no key to leak
  }
}

resource realtimeDeployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: openai
  name: realtimeModel.name
  sku: {
    name: 'GlobalStandard'
    capacity: realtimeModel.capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: realtimeModel.name
      version: realtimeModel.version
    }
  }
}

resource chatDeployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: openai
  name: chatModel.name
  dependsOn: [
    realtimeDeployment // one deployment at a time on the same account
  ]
  sku: {
    name: 'GlobalStandard'
    capacity: chatModel.capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: chatModel.name
      version: chatModel.version
    }
  }
}

resource openaiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openai.id, identity.id, roleOpenAiUser)
  scope: openai
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleOpenAiUser)
  }
}

// --- PostgreSQL: conversations and turns (server.store_url) ------------------------------------------------
resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: '${name}-pg-${suffix}'
  location: location
  tags: tags
  sku: {
    name: 'Standard_B1ms'
    tier: 'Burstable'
  }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: {
      storageSizeGB: 32
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
  }
}

resource postgresDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: 'datavox'
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// 0.0.0.0: "allow Azure services"; a private endpoint in a VNet is the hardening step (docs/deploy.md).
resource postgresFromAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'allow-azure-services'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// --- Redis: event fan-out, rate limits, minted secrets (server.state_url) ------------------------------------
resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: '${name}-redis-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'Standard'
      family: 'C'
      capacity: 1
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    redisConfiguration: {
      'maxmemory-policy': 'volatile-lru'
    }
  }
}

// --- Key Vault: every secret the app reads -----------------------------------------------------------------
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: '${name}-kv-${suffix}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roleKeyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleKeyVaultSecretsUser)
  }
}

resource apiTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'api-token'
  properties: {
    value: apiToken
  }
}

resource storeUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'store-url'
  properties: {
    value: 'postgresql://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${postgresDatabase.name}?sslmode=require'
  }
}

resource stateUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'state-url'
  properties: {
    value: 'rediss://:${uriComponent(redis.listKeys().primaryKey)}@${redis.properties.hostName}:${redis.properties.sslPort}/0'
  }
}

// --- Container Apps ----------------------------------------------------------------------------------------
resource environment 'Microsoft.App/managedEnvironments@2024-02-02-preview' = {
  name: '${name}-env-${suffix}'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    // The managed OpenTelemetry agent: it sets OTEL_EXPORTER_OTLP_ENDPOINT in the app, which datavox's
    // exporter reads, and forwards the traces to Application Insights.
    appInsightsConfiguration: {
      connectionString: insights.properties.ConnectionString
    }
    openTelemetryConfiguration: {
      tracesConfiguration: {
        destinations: [
          'appInsights'
        ]
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

var keyVaultSecrets = [
  {
    name: 'api-token'
    keyVaultUrl: apiTokenSecret.properties.secretUri
    identity: identity.id
  }
  {
    name: 'store-url'
    keyVaultUrl: storeUrlSecret.properties.secretUri
    identity: identity.id
  }
  {
    name: 'state-url'
    keyVaultUrl: stateUrlSecret.properties.secretUri
    identity: identity.id
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = if (deployApp) {
  name: '${name}-app'
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  dependsOn: [
    acrPull
    vaultSecretsUser
    openaiUser
  ]
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 8000
        transport: 'auto' // HTTP/1.1 upgrades for the WebSocket relay and the event stream
        allowInsecure: false
        // A local voice session's media lives on one replica: the affinity cookie keeps it there.
        stickySessions: {
          affinity: 'sticky'
        }
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: identity.id
        }
      ]
      secrets: keyVaultSecrets
    }
    template: {
      containers: [
        {
          name: 'datavox'
          image: containerImage
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [
            { name: 'DATAVOX_API_TOKEN', secretRef: 'api-token' }
            { name: 'DATAVOX_SERVER_STORE_URL', secretRef: 'store-url' }
            { name: 'DATAVOX_SERVER_STATE_URL', secretRef: 'state-url' }
            { name: 'DATAVOX_REALTIME_ENGINE', value: realtimeEngine }
            { name: 'DATAVOX_REALTIME_AZURE_ENDPOINT', value: openai.properties.endpoint }
            { name: 'DATAVOX_REALTIME_AZURE_DEPLOYMENT', value: realtimeDeployment.name }
            { name: 'DATAVOX_REALTIME_AZURE_AUTH', value: 'entra' }
            { name: 'DATAVOX_LLM_PROVIDER', value: 'azure' }
            { name: 'DATAVOX_LLM_AZURE_ENDPOINT', value: openai.properties.endpoint }
            { name: 'DATAVOX_LLM_AZURE_DEPLOYMENT', value: chatDeployment.name }
            { name: 'DATAVOX_LLM_AZURE_AUTH', value: 'entra' }
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId } // which identity Entra tokens are for
          ]
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/readyz'
                port: 8000
              }
              periodSeconds: 5
              failureThreshold: 24 // two minutes for the speech models to load
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/livez'
                port: 8000
              }
              periodSeconds: 15
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8000
              }
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'cpu-above-threshold'
            custom: {
              type: 'cpu'
              metadata: {
                type: 'Utilization'
                value: string(cpuScaleThreshold)
              }
            }
          }
        ]
      }
    }
  }
}

output appUrl string = deployApp ? 'https://${app.properties.configuration.ingress.fqdn}' : ''
output registryLoginServer string = registry.properties.loginServer
output openaiEndpoint string = openai.properties.endpoint
output keyVaultName string = vault.name
output applicationInsightsName string = insights.name
