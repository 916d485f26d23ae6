//! `filiere org`, `filiere user` and `filiere token`: accounts from the
//! command line, for the first administrator and for scripts.

use std::io::BufRead;

use clap::{Args, Subcommand};
use filiere_domain::access::{OrganisationKind, Role};

#[derive(Debug, Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    pub action: OrgAction,
}

#[derive(Debug, Subcommand)]
pub enum OrgAction {
    /// Create an organisation.
    Add {
        /// Name of the organisation.
        name: String,
        /// Kind: workshop, collection_point, social_service, funder or donor.
        #[arg(long, default_value = "workshop")]
        kind: OrganisationKind,
    },
    /// List organisations with their ids.
    List,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user with a role in an organisation. The password is read from
    /// standard input with --password-stdin; without it a one-time link to set
    /// it is printed.
    Add {
        #[arg(long)]
        email: String,
        /// Name shown in the pages.
        #[arg(long)]
        name: String,
        /// Organisation id or exact name.
        #[arg(long)]
        organisation: String,
        /// Role: technician, workshop_coordinator, referrer, funder_viewer or administrator.
        #[arg(long)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Base URL of the server, used in the printed link.
        #[arg(
            long,
            env = "FILIERE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
    /// Print a one-time link that lets a user set a new password.
    ResetLink {
        #[arg(long)]
        email: String,
        #[arg(
            long,
            env = "FILIERE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create an API token for scripts and scanners; its secret is printed once.
    Create {
        /// What the token is for, such as "douchette atelier".
        #[arg(long)]
        name: String,
        /// Organisation id or exact name.
        #[arg(long)]
        organisation: String,
        #[arg(long, default_value = "technician")]
        role: Role,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
    /// List tokens (never their secrets).
    List,
}

pub async fn org(url: &str, args: OrgArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    match args.action {
        OrgAction::Add { name, kind } => {
            let organisation = store.create_organisation(&name, kind).await?;
            println!(
                "{}\t{}\t{}",
                organisation.id, organisation.kind, organisation.name
            );
        }
        OrgAction::List => {
            for organisation in store.organisations().await? {
                println!(
                    "{}\t{}\t{}",
                    organisation.id, organisation.kind, organisation.name
                );
            }
        }
    }
    Ok(())
}

pub async fn user(url: &str, args: UserArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    match args.action {
        UserAction::Add {
            email,
            name,
            organisation,
            role,
            password_stdin,
            public_url,
        } => {
            let organisation = store.organisation(&organisation).await?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let user = store
                .create_user(&email, &name, password.as_deref())
                .await?;
            store
                .add_membership(&user.id, &organisation.id, role)
                .await?;
            println!(
                "user {} ({}) is {} at {}",
                user.email, user.id, role, organisation.name
            );
            if password.is_none() {
                let secret = store.create_link("reset", Some(&user.id)).await?;
                println!(
                    "set the password within 48 hours: {}/compte/mot-de-passe/{secret}",
                    public_url.trim_end_matches('/')
                );
            }
        }
        UserAction::ResetLink { email, public_url } => {
            let wanted = email.trim().to_lowercase();
            let user = store
                .users()
                .await?
                .into_iter()
                .find(|u| u.email == wanted)
                .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
            let secret = store.create_link("reset", Some(&user.id)).await?;
            println!(
                "{}/compte/mot-de-passe/{secret}",
                public_url.trim_end_matches('/')
            );
        }
    }
    Ok(())
}

pub async fn token(url: &str, args: TokenArgs) -> anyhow::Result<()> {
    let store = super::open(url).await?;
    match args.action {
        TokenAction::Create {
            name,
            organisation,
            role,
        } => {
            let organisation = store.organisation(&organisation).await?;
            let actor = super::cli_actor(None);
            let token = store
                .create_token(&name, &organisation.id, role, &actor)
                .await?;
            println!(
                "token {} ({role} at {}); keep this secret, it is shown once:",
                token.id, organisation.name
            );
            println!("{}", token.secret);
        }
        TokenAction::Revoke { id } => {
            store.revoke_token(&id).await?;
            println!("token {id} revoked");
        }
        TokenAction::List => {
            for token in store.tokens(None).await? {
                let state = if token.revoked { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    token.id, token.organisation_id, token.role, token.name
                );
            }
        }
    }
    Ok(())
}
