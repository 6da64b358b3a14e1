//! The stages of an investment project's legal procedure (Investment Law,
//! in the order the province practises it): their codes, names in
//! Vietnamese and English, which need a formal decision, and what each
//! makes due next. The moves allowed between them are the planning
//! registry's (`planning::projects`).

/// A stage of a project's legal procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Đề xuất / kêu gọi đầu tư.
    Proposed,
    /// Chấp thuận chủ trương đầu tư.
    PolicyApproved,
    /// Lựa chọn nhà đầu tư.
    InvestorSelected,
    /// Giao đất / cho thuê đất.
    LandAllocated,
    /// Giấy phép xây dựng.
    BuildingPermit,
    /// Đang xây dựng.
    UnderConstruction,
    /// Đi vào hoạt động.
    Operating,
    /// Tạm ngừng (from any stage).
    Suspended,
    /// Chấm dứt / thu hồi (from any stage; final).
    Terminated,
}

/// The main stages, in order.
pub const MAIN: [Stage; 7] = [
    Stage::Proposed,
    Stage::PolicyApproved,
    Stage::InvestorSelected,
    Stage::LandAllocated,
    Stage::BuildingPermit,
    Stage::UnderConstruction,
    Stage::Operating,
];

/// The stages a project may enter from any stage.
pub const ASIDE: [Stage; 2] = [Stage::Suspended, Stage::Terminated];

/// Every stage: the main ones in order, then those aside.
pub const ALL: [Stage; 9] = {
    let mut all = [Stage::Proposed; 9];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < MAIN.len() {
            MAIN[i]
        } else {
            ASIDE[i - MAIN.len()]
        };
        i += 1;
    }
    all
};

impl Stage {
    /// The code ("investor_selected").
    pub fn code(self) -> &'static str {
        match self {
            Stage::Proposed => "proposed",
            Stage::PolicyApproved => "policy_approved",
            Stage::InvestorSelected => "investor_selected",
            Stage::LandAllocated => "land_allocated",
            Stage::BuildingPermit => "building_permit",
            Stage::UnderConstruction => "under_construction",
            Stage::Operating => "operating",
            Stage::Suspended => "suspended",
            Stage::Terminated => "terminated",
        }
    }

    /// The Vietnamese name, as the `status` field holds it.
    pub fn vi(self) -> &'static str {
        match self {
            Stage::Proposed => "đề xuất / kêu gọi đầu tư",
            Stage::PolicyApproved => "chấp thuận chủ trương đầu tư",
            Stage::InvestorSelected => "lựa chọn nhà đầu tư",
            Stage::LandAllocated => "giao đất / cho thuê đất",
            Stage::BuildingPermit => "giấy phép xây dựng",
            Stage::UnderConstruction => "đang xây dựng",
            Stage::Operating => "đi vào hoạt động",
            Stage::Suspended => "tạm ngừng",
            Stage::Terminated => "chấm dứt / thu hồi",
        }
    }

    /// The English name.
    pub fn en(self) -> &'static str {
        match self {
            Stage::Proposed => "proposed, calling for investors",
            Stage::PolicyApproved => "investment policy approved",
            Stage::InvestorSelected => "investor selected",
            Stage::LandAllocated => "land allocated or leased",
            Stage::BuildingPermit => "building permit granted",
            Stage::UnderConstruction => "under construction",
            Stage::Operating => "operating",
            Stage::Suspended => "suspended",
            Stage::Terminated => "terminated or revoked",
        }
    }

    /// True for stages a formal decision (number and authority) moves a
    /// project into.
    pub fn needs_decision(self) -> bool {
        matches!(
            self,
            Stage::PolicyApproved
                | Stage::InvestorSelected
                | Stage::LandAllocated
                | Stage::BuildingPermit
                | Stage::Suspended
                | Stage::Terminated
        )
    }

    /// What is due next once a project enters this stage, and in how many
    /// months: investor selection within 12 months of policy approval, land
    /// within 12 of selection, a building permit within 12 of the land,
    /// construction started within 12 of the permit (it lapses otherwise),
    /// operation within 24 of the start, a suspension reviewed within 12.
    pub fn deadline(self) -> Option<(u32, Stage)> {
        Some(match self {
            Stage::PolicyApproved => (12, Stage::InvestorSelected),
            Stage::InvestorSelected => (12, Stage::LandAllocated),
            Stage::LandAllocated => (12, Stage::BuildingPermit),
            Stage::BuildingPermit => (12, Stage::UnderConstruction),
            Stage::UnderConstruction => (24, Stage::Operating),
            Stage::Suspended => (12, Stage::Suspended),
            _ => return None,
        })
    }

    /// What is due after this stage, in Vietnamese and English ("lựa chọn
    /// nhà đầu tư / investor selected"); empty when nothing is.
    pub fn due_text(self) -> String {
        match self.deadline() {
            Some((_, Stage::Suspended)) => "xem xét tạm ngừng / review of the suspension".into(),
            Some((_, next)) => format!("{} / {}", next.vi(), next.en()),
            None => String::new(),
        }
    }
}
