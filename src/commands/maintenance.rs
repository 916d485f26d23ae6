use filiere_projections::Projector;

/// `filiere rebuild`: replays the whole log into empty projections.
pub async fn rebuild(url: &str) -> anyhow::Result<()> {
    let store = super::open_existing(url).await?;
    let started = std::time::Instant::now();
    let replayed = Projector::new(store.clone()).rebuild().await?;
    let (position, _) = store.head().await?;
    println!(
        "Rebuilt projections from {position} events ({replayed} applications) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `filiere verify`: recomputes the hash chain.
pub async fn verify(url: &str) -> anyhow::Result<()> {
    let store = super::open_existing(url).await?;
    let report = store.verify_chain().await?;
    match report.first_break {
        None => {
            println!(
                "Event log intact: {} events, head position {}, head hash {}",
                report.events_checked, report.head_position, report.head_hash
            );
            Ok(())
        }
        Some((position, reason)) => anyhow::bail!(
            "event log broken at position {position}: {reason} ({} events before it are intact)",
            report.events_checked
        ),
    }
}
